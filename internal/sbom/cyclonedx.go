package sbom

import (
	"crypto/sha1"
	"encoding/hex"
	"strings"
	"time"
)

type cdxBOM struct {
	BOMFormat    string          `json:"bomFormat"`
	SpecVersion  string          `json:"specVersion"`
	SerialNumber string          `json:"serialNumber"`
	Version      int             `json:"version"`
	Metadata     cdxMetadata     `json:"metadata"`
	Components   []cdxComponent  `json:"components"`
	Dependencies []cdxDependency `json:"dependencies"`
}

type cdxMetadata struct {
	Timestamp string       `json:"timestamp"`
	Tools     cdxTools     `json:"tools"`
	Component cdxComponent `json:"component"`
}

type cdxTools struct {
	Components []cdxComponent `json:"components"`
}

type cdxComponent struct {
	Type         string        `json:"type"`
	BOMRef       string        `json:"bom-ref,omitempty"`
	Group        string        `json:"group,omitempty"`
	Name         string        `json:"name"`
	Version      string        `json:"version,omitempty"`
	Hashes       []cdxHash     `json:"hashes,omitempty"`
	Licenses     []cdxLicense  `json:"licenses,omitempty"`
	PURL         string        `json:"purl,omitempty"`
	ExternalRefs []cdxExternal `json:"externalReferences,omitempty"`
	Properties   []cdxProperty `json:"properties,omitempty"`
}

type cdxHash struct {
	Alg     string `json:"alg"`
	Content string `json:"content"`
}

// cdxLicense is one licenses entry: a licence (an SPDX id, or a name for a
// text that is not one) or an SPDX expression.
type cdxLicense struct {
	License    *cdxLicenseChoice `json:"license,omitempty"`
	Expression string            `json:"expression,omitempty"`
}

type cdxLicenseChoice struct {
	ID   string `json:"id,omitempty"`
	Name string `json:"name,omitempty"`
}

type cdxExternal struct {
	Type string `json:"type"`
	URL  string `json:"url"`
}

type cdxProperty struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

type cdxDependency struct {
	Ref       string   `json:"ref"`
	DependsOn []string `json:"dependsOn"`
}

// rootRef is the environment's bom-ref.
const rootRef = "environment"

// CycloneDX is the BOM as a CycloneDX 1.5 JSON document: the environment
// as the metadata's component, with the definition hash, lock hash and
// platform as envkit: properties; one component per package (bom-ref: its
// purl); the environment depending on every component, and the
// components' own dependencies.
func (b *BOM) CycloneDX() ([]byte, error) {
	doc := cdxBOM{
		BOMFormat: "CycloneDX", SpecVersion: "1.5", Version: 1,
		SerialNumber: "urn:uuid:" + uuidV5(NamespaceBase+idString(b.Name)+"-"+b.Subdir+"-"+b.digest()),
		Metadata: cdxMetadata{
			Timestamp: b.Created.Format(time.RFC3339),
			Tools:     cdxTools{Components: []cdxComponent{{Type: "application", Name: "envkit", Version: b.ToolVersion}}},
			Component: cdxComponent{
				Type: "container", BOMRef: rootRef, Name: b.Name, Version: b.DefinitionHash,
				Properties: []cdxProperty{
					{"envkit:definition-hash", b.DefinitionHash},
					{"envkit:lock-hash", b.LockHash},
					{"envkit:platform", b.Subdir},
				},
			},
		},
		Components:   []cdxComponent{},
		Dependencies: []cdxDependency{{Ref: rootRef, DependsOn: []string{}}},
	}
	for _, c := range b.Components {
		cc := cdxComponent{Type: "library", BOMRef: c.PURL, Group: c.Group, Name: c.Name, Version: c.Version, PURL: c.PURL, Licenses: cdxLicenses(c.License)}
		if c.Kind == Image {
			cc.Type = "container"
		}
		if c.SHA256 != "" {
			cc.Hashes = append(cc.Hashes, cdxHash{"SHA-256", c.SHA256})
		}
		if c.MD5 != "" {
			cc.Hashes = append(cc.Hashes, cdxHash{"MD5", c.MD5})
		}
		if c.DownloadURL != "" {
			cc.ExternalRefs = []cdxExternal{{"distribution", c.DownloadURL}}
		}
		doc.Components = append(doc.Components, cc)
		doc.Dependencies[0].DependsOn = append(doc.Dependencies[0].DependsOn, c.PURL)
		doc.Dependencies = append(doc.Dependencies, cdxDependency{Ref: c.PURL, DependsOn: append([]string{}, c.DependsOn...)})
	}
	return marshal(doc)
}

// cdxLicenses is a licence as CycloneDX takes it: nothing for
// NoAssertion, the id of a single SPDX identifier, the expression of a
// compound one, and the declared text as a name for a LicenseRef-.
func cdxLicenses(l License) []cdxLicense {
	switch {
	case l.Expression == NoAssertion:
		return nil
	case l.Ref:
		return []cdxLicense{{License: &cdxLicenseChoice{Name: l.Declared}}}
	case strings.ContainsAny(l.Expression, " ()"):
		return []cdxLicense{{Expression: l.Expression}}
	}
	return []cdxLicense{{License: &cdxLicenseChoice{ID: l.Expression}}}
}

// uuidV5 is the RFC 9562 name-based (SHA-1) UUID of name in the URL
// namespace: the same name gives the same UUID.
func uuidV5(name string) string {
	ns := []byte{0x6b, 0xa7, 0xb8, 0x11, 0x9d, 0xad, 0x11, 0xd1, 0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4, 0x30, 0xc8}
	h := sha1.New()
	h.Write(ns)
	h.Write([]byte(name))
	u := h.Sum(nil)[:16]
	u[6] = u[6]&0x0f | 0x50
	u[8] = u[8]&0x3f | 0x80
	x := hex.EncodeToString(u)
	return x[:8] + "-" + x[8:12] + "-" + x[12:16] + "-" + x[16:20] + "-" + x[20:]
}
