package sbom

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"time"
)

// NamespaceBase starts every SPDX document namespace envkit writes; the
// rest is the document's name, platform and content digest.
const NamespaceBase = "https://envkit.dev/spdx/"

// RootID is the SPDX identifier of the environment's own package, the one
// the document DESCRIBES.
const RootID = "SPDXRef-Environment"

type spdxDocument struct {
	SPDXVersion       string             `json:"spdxVersion"`
	DataLicense       string             `json:"dataLicense"`
	SPDXID            string             `json:"SPDXID"`
	Name              string             `json:"name"`
	DocumentNamespace string             `json:"documentNamespace"`
	CreationInfo      spdxCreationInfo   `json:"creationInfo"`
	Comment           string             `json:"comment,omitempty"`
	Packages          []spdxPackage      `json:"packages"`
	Relationships     []spdxRelationship `json:"relationships"`
	ExtractedLicenses []spdxExtracted    `json:"hasExtractedLicensingInfos,omitempty"`
}

type spdxCreationInfo struct {
	Created  string   `json:"created"`
	Creators []string `json:"creators"`
}

type spdxPackage struct {
	SPDXID           string         `json:"SPDXID"`
	Name             string         `json:"name"`
	VersionInfo      string         `json:"versionInfo,omitempty"`
	DownloadLocation string         `json:"downloadLocation"`
	FilesAnalyzed    bool           `json:"filesAnalyzed"`
	Checksums        []spdxChecksum `json:"checksums,omitempty"`
	LicenseConcluded string         `json:"licenseConcluded"`
	LicenseDeclared  string         `json:"licenseDeclared"`
	CopyrightText    string         `json:"copyrightText"`
	ExternalRefs     []spdxRef      `json:"externalRefs,omitempty"`
	PrimaryPurpose   string         `json:"primaryPackagePurpose,omitempty"`
	Comment          string         `json:"comment,omitempty"`
}

type spdxChecksum struct {
	Algorithm string `json:"algorithm"`
	Value     string `json:"checksumValue"`
}

type spdxRef struct {
	Category string `json:"referenceCategory"`
	Type     string `json:"referenceType"`
	Locator  string `json:"referenceLocator"`
}

type spdxRelationship struct {
	Element string `json:"spdxElementId"`
	Type    string `json:"relationshipType"`
	Related string `json:"relatedSpdxElement"`
}

type spdxExtracted struct {
	LicenseID     string `json:"licenseId"`
	ExtractedText string `json:"extractedText"`
	Name          string `json:"name"`
}

// comment names what the image's labels carry, so a document can be
// matched to its image and lock.
func (b *BOM) comment() string {
	return fmt.Sprintf("envkit environment %s for %s: definition hash %s, lock hash %s", b.Name, b.Subdir, b.DefinitionHash, b.LockHash)
}

// SPDX is the BOM as an SPDX 2.3 JSON document: the environment as a
// package the document DESCRIBES and that CONTAINS every component, and
// DEPENDS_ON edges between components. Licences that are not SPDX
// identifiers are LicenseRef-s whose text is the declared one.
func (b *BOM) SPDX() ([]byte, error) {
	doc := spdxDocument{
		SPDXVersion:       "SPDX-2.3",
		DataLicense:       "CC0-1.0",
		SPDXID:            "SPDXRef-DOCUMENT",
		Name:              b.Name + "-" + b.Subdir,
		DocumentNamespace: NamespaceBase + idString(b.Name) + "-" + b.Subdir + "-" + b.digest(),
		CreationInfo: spdxCreationInfo{
			Created:  b.Created.Format(time.RFC3339),
			Creators: []string{"Tool: envkit-" + b.ToolVersion},
		},
		Comment: b.comment(),
	}
	doc.Packages = append(doc.Packages, spdxPackage{
		SPDXID: RootID, Name: b.Name, VersionInfo: b.DefinitionHash,
		DownloadLocation: NoAssertion, LicenseConcluded: NoAssertion, LicenseDeclared: NoAssertion, CopyrightText: NoAssertion,
		PrimaryPurpose: "CONTAINER", Comment: b.comment(),
	})
	doc.Relationships = append(doc.Relationships, spdxRelationship{"SPDXRef-DOCUMENT", "DESCRIBES", RootID})
	refs := map[string]string{}
	ids := map[string]string{} // purl -> SPDX ID
	for _, c := range b.Components {
		ids[c.PURL] = "SPDXRef-" + c.ID
	}
	for _, c := range b.Components {
		p := spdxPackage{
			SPDXID: ids[c.PURL], Name: c.Name, VersionInfo: c.Version,
			DownloadLocation: c.DownloadURL,
			LicenseConcluded: NoAssertion, LicenseDeclared: c.License.Expression, CopyrightText: NoAssertion,
			ExternalRefs:   []spdxRef{{"PACKAGE-MANAGER", "purl", c.PURL}},
			PrimaryPurpose: "LIBRARY",
		}
		if c.Kind == Maven {
			p.Name = c.Group + ":" + c.Name
		}
		if c.Kind == Image {
			p.PrimaryPurpose = "CONTAINER"
		}
		if p.DownloadLocation == "" {
			p.DownloadLocation = NoAssertion
		}
		if c.SHA256 != "" {
			p.Checksums = append(p.Checksums, spdxChecksum{"SHA256", c.SHA256})
		}
		if c.MD5 != "" {
			p.Checksums = append(p.Checksums, spdxChecksum{"MD5", c.MD5})
		}
		if c.License.Ref {
			refs[c.License.Expression] = c.License.Declared
		}
		doc.Packages = append(doc.Packages, p)
		doc.Relationships = append(doc.Relationships, spdxRelationship{RootID, "CONTAINS", p.SPDXID})
	}
	for _, c := range b.Components {
		for _, d := range c.DependsOn {
			doc.Relationships = append(doc.Relationships, spdxRelationship{ids[c.PURL], "DEPENDS_ON", ids[d]})
		}
	}
	for _, id := range slices.Sorted(maps.Keys(refs)) {
		doc.ExtractedLicenses = append(doc.ExtractedLicenses, spdxExtracted{LicenseID: id, ExtractedText: refs[id], Name: refs[id]})
	}
	return marshal(doc)
}

// marshal is indented JSON with "&" and "<" as they are: purls join
// their qualifiers with "&".
func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
