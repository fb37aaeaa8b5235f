// Package sbomtest checks SBOM documents for tests: CycloneDX against the
// official 1.5 JSON schema vendored in internal/sbom/testdata/schema, and
// SPDX 2.3 against the fields the specification makes mandatory (no
// reachable package ships SPDX 2.3's JSON schema) and through the SPDX
// project's Go reader.
package sbomtest

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	spdxjson "github.com/spdx/tools-golang/json"
	"github.com/spdx/tools-golang/spdxlib"
)

// SchemaDir is the vendored schemas' directory.
var SchemaDir = func() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "testdata", "schema")
}()

var cycloneDX struct {
	once   sync.Once
	schema *jsonschema.Schema
	err    error
}

// compileCycloneDX compiles the CycloneDX 1.5 schema with the schemas it
// references, under the URLs its $refs resolve to.
func compileCycloneDX() (*jsonschema.Schema, error) {
	c := jsonschema.NewCompiler()
	for _, f := range []string{"bom-1.5.SNAPSHOT.schema.json", "spdx.SNAPSHOT.schema.json", "jsf-0.82.SNAPSHOT.schema.json"} {
		fh, err := os.Open(filepath.Join(SchemaDir, f))
		if err != nil {
			return nil, err
		}
		doc, err := jsonschema.UnmarshalJSON(fh)
		fh.Close()
		if err != nil {
			return nil, err
		}
		if err := c.AddResource("http://cyclonedx.org/schema/"+f, doc); err != nil {
			return nil, err
		}
	}
	return c.Compile("http://cyclonedx.org/schema/bom-1.5.SNAPSHOT.schema.json")
}

// ValidateCycloneDX fails the test when data is not a CycloneDX 1.5
// document.
func ValidateCycloneDX(tb testing.TB, data []byte) {
	tb.Helper()
	cycloneDX.once.Do(func() { cycloneDX.schema, cycloneDX.err = compileCycloneDX() })
	if cycloneDX.err != nil {
		tb.Fatal(cycloneDX.err)
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		tb.Fatal(err)
	}
	if err := cycloneDX.schema.Validate(v); err != nil {
		tb.Errorf("CycloneDX 1.5 schema: %v", err)
	}
}

var (
	spdxIDRe      = regexp.MustCompile(`^SPDXRef-[A-Za-z0-9.-]+$`)
	licenseRefRe  = regexp.MustCompile(`LicenseRef-[A-Za-z0-9.-]+`)
	createdRe     = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$`)
	purlRe        = regexp.MustCompile(`^pkg:[a-z][a-z0-9.+-]*/.+`)
	lowerHexRe    = regexp.MustCompile(`^[0-9a-f]+$`)
	hexLen        = map[string]int{"SHA256": 64, "MD5": 32, "SHA1": 40}
	relationships = []string{"DESCRIBES", "CONTAINS", "DEPENDS_ON"}
)

// CheckSPDX fails the test when data misses what SPDX 2.3 makes
// mandatory: the document's creation information (clauses 6.1–6.9), each
// package's identifier, name, download location and, with filesAnalyzed
// false, no verification code (7.1–7.9); well-formed checksums (7.10) and
// purl references (F.3.7); licence expressions whose LicenseRef-s are all
// defined with their text (10.1–10.2); relationships between elements the
// document defines (11.1), one of them the document DESCRIBES. The SPDX
// project's own Go tools (tools-golang) must read it as a 2.3 document
// and find its relationships valid.
func CheckSPDX(tb testing.TB, data []byte) {
	tb.Helper()
	parsed, err := spdxjson.Read(bytes.NewReader(data))
	if err != nil {
		tb.Fatalf("tools-golang reads no SPDX document: %v", err)
	}
	if err := spdxlib.ValidateDocument(parsed); err != nil {
		tb.Errorf("tools-golang: %v", err)
	}
	var doc struct {
		SPDXVersion, DataLicense, SPDXID, Name, DocumentNamespace string
		CreationInfo                                              struct {
			Created  string
			Creators []string
		}
		Packages []struct {
			SPDXID, Name, VersionInfo, DownloadLocation, LicenseConcluded, LicenseDeclared, CopyrightText string
			FilesAnalyzed                                                                                 *bool
			PackageVerificationCode                                                                       any
			Checksums                                                                                     []struct{ Algorithm, ChecksumValue string }
			ExternalRefs                                                                                  []struct{ ReferenceCategory, ReferenceType, ReferenceLocator string }
		}
		Relationships []struct{ SpdxElementID, RelationshipType, RelatedSpdxElement string }
		Extracted     []struct{ LicenseID, ExtractedText string } `json:"hasExtractedLicensingInfos"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		tb.Fatal(err)
	}
	if doc.SPDXVersion != "SPDX-2.3" || doc.DataLicense != "CC0-1.0" || doc.SPDXID != "SPDXRef-DOCUMENT" || doc.Name == "" {
		tb.Errorf("document header: %q %q %q %q", doc.SPDXVersion, doc.DataLicense, doc.SPDXID, doc.Name)
	}
	if !strings.HasPrefix(doc.DocumentNamespace, "https://") || strings.Contains(doc.DocumentNamespace, "#") {
		tb.Errorf("documentNamespace %q: want an absolute URI without #", doc.DocumentNamespace)
	}
	if !createdRe.MatchString(doc.CreationInfo.Created) || len(doc.CreationInfo.Creators) == 0 || !strings.HasPrefix(doc.CreationInfo.Creators[0], "Tool: ") {
		tb.Errorf("creationInfo %+v", doc.CreationInfo)
	}
	ids := map[string]bool{"SPDXRef-DOCUMENT": true}
	defined := map[string]bool{}
	for _, e := range doc.Extracted {
		if !licenseRefRe.MatchString(e.LicenseID) || e.ExtractedText == "" {
			tb.Errorf("extracted licence %+v", e)
		}
		defined[e.LicenseID] = true
	}
	for _, p := range doc.Packages {
		if !spdxIDRe.MatchString(p.SPDXID) || ids[p.SPDXID] {
			tb.Errorf("package %s: SPDXID %q not an identifier or not unique", p.Name, p.SPDXID)
		}
		ids[p.SPDXID] = true
		if p.Name == "" || p.DownloadLocation == "" || p.FilesAnalyzed == nil || *p.FilesAnalyzed || p.PackageVerificationCode != nil {
			tb.Errorf("package %s: name, downloadLocation %q, filesAnalyzed %v", p.SPDXID, p.DownloadLocation, p.FilesAnalyzed)
		}
		if p.DownloadLocation != "NOASSERTION" && !strings.Contains(p.DownloadLocation, "://") {
			tb.Errorf("package %s: downloadLocation %q", p.SPDXID, p.DownloadLocation)
		}
		for _, c := range p.Checksums {
			if n, ok := hexLen[c.Algorithm]; !ok || !lowerHexRe.MatchString(c.ChecksumValue) || len(c.ChecksumValue) != n {
				tb.Errorf("package %s: checksum %+v", p.SPDXID, c)
			}
		}
		for _, r := range p.ExternalRefs {
			if r.ReferenceCategory != "PACKAGE-MANAGER" || r.ReferenceType != "purl" || !purlRe.MatchString(r.ReferenceLocator) {
				tb.Errorf("package %s: external ref %+v", p.SPDXID, r)
			}
		}
		for _, l := range []string{p.LicenseConcluded, p.LicenseDeclared} {
			if l == "" {
				tb.Errorf("package %s: empty licence", p.SPDXID)
			}
			for _, ref := range licenseRefRe.FindAllString(l, -1) {
				if !defined[ref] {
					tb.Errorf("package %s: %s not in hasExtractedLicensingInfos", p.SPDXID, ref)
				}
			}
		}
		if p.CopyrightText == "" {
			tb.Errorf("package %s: empty copyrightText", p.SPDXID)
		}
	}
	describes := false
	for _, r := range doc.Relationships {
		if !ids[r.SpdxElementID] || !ids[r.RelatedSpdxElement] || !slices.Contains(relationships, r.RelationshipType) {
			tb.Errorf("relationship %+v", r)
		}
		describes = describes || r.SpdxElementID == "SPDXRef-DOCUMENT" && r.RelationshipType == "DESCRIBES"
	}
	if !describes {
		tb.Error("no DOCUMENT DESCRIBES relationship")
	}
	if len(parsed.Packages) != len(doc.Packages) || len(parsed.Relationships) != len(doc.Relationships) {
		tb.Errorf("tools-golang read %d packages and %d relationships of %d and %d", len(parsed.Packages), len(parsed.Relationships), len(doc.Packages), len(doc.Relationships))
	}
}
