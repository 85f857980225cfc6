package gateway

import (
	"encoding/xml"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/lakegate/lakegate/backends"
	"github.com/lakegate/lakegate/gateway/s3err"
)

func TestParseCompleteMultipartUpload(t *testing.T) {
	const e1, e2 = "0123456789abcdef0123456789abcdef", "fedcba9876543210fedcba9876543210"
	ok := []struct {
		name, body string
		want       []backends.CompletePart
	}{
		{"quoted etags, namespace", `<CompleteMultipartUpload xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Part><PartNumber>1</PartNumber><ETag>"` + e1 + `"</ETag></Part><Part><PartNumber>3</PartNumber><ETag>&quot;` + e2 + `&quot;</ETag></Part></CompleteMultipartUpload>`,
			[]backends.CompletePart{{PartNumber: 1, ETag: e1}, {PartNumber: 3, ETag: e2}}},
		{"unquoted, whitespace, checksum", "<?xml version=\"1.0\"?>\n<CompleteMultipartUpload>\n  <Part>\n    <ETag>" + e1 + "</ETag>\n    <ChecksumCRC32>AAAAAA==</ChecksumCRC32>\n    <PartNumber> 10000 </PartNumber>\n  </Part>\n</CompleteMultipartUpload>",
			[]backends.CompletePart{{PartNumber: 10000, ETag: e1}}},
	}
	for _, c := range ok {
		got, err := parseCompleteMultipartUpload([]byte(c.body))
		if err != nil || !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: got %v %v, want %v", c.name, got, err, c.want)
		}
	}
	bad := []struct{ name, body, code string }{
		{"empty", ``, "MalformedXML"},
		{"no parts", `<CompleteMultipartUpload/>`, "MalformedXML"},
		{"wrong root", `<CompleteMultipartUploadX><Part><PartNumber>1</PartNumber><ETag>x</ETag></Part></CompleteMultipartUploadX>`, "MalformedXML"},
		{"not a number", `<CompleteMultipartUpload><Part><PartNumber>1e3</PartNumber><ETag>x</ETag></Part></CompleteMultipartUpload>`, "MalformedXML"},
		{"zero", `<CompleteMultipartUpload><Part><PartNumber>0</PartNumber><ETag>x</ETag></Part></CompleteMultipartUpload>`, "InvalidArgument"},
		{"too big", `<CompleteMultipartUpload><Part><PartNumber>10001</PartNumber><ETag>x</ETag></Part></CompleteMultipartUpload>`, "InvalidArgument"},
		{"descending", `<CompleteMultipartUpload><Part><PartNumber>2</PartNumber><ETag>x</ETag></Part><Part><PartNumber>1</PartNumber><ETag>x</ETag></Part></CompleteMultipartUpload>`, "InvalidPartOrder"},
		{"repeated", `<CompleteMultipartUpload><Part><PartNumber>2</PartNumber><ETag>x</ETag></Part><Part><PartNumber>2</PartNumber><ETag>x</ETag></Part></CompleteMultipartUpload>`, "InvalidPartOrder"},
		{"no etag", `<CompleteMultipartUpload><Part><PartNumber>1</PartNumber></Part></CompleteMultipartUpload>`, "InvalidPart"},
		{"quotes only", `<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>""</ETag></Part></CompleteMultipartUpload>`, "InvalidPart"},
	}
	for _, c := range bad {
		_, err := parseCompleteMultipartUpload([]byte(c.body))
		var se *s3err.Error
		if !errors.As(err, &se) || se.Code != c.code {
			t.Errorf("%s: error %v, want %s", c.name, err, c.code)
		}
	}
}

// FuzzCompleteMultipartUpload feeds arbitrary bodies to the
// CompleteMultipartUpload parser: it must never panic, fail only with a 400
// S3 error, and return only part lists that are valid and survive a
// marshal/parse round trip.
func FuzzCompleteMultipartUpload(f *testing.F) {
	f.Add([]byte(`<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>"0123456789abcdef0123456789abcdef"</ETag></Part></CompleteMultipartUpload>`))
	f.Fuzz(func(t *testing.T, data []byte) {
		parts, err := parseCompleteMultipartUpload(data)
		if err != nil {
			var se *s3err.Error
			if !errors.As(err, &se) || se.Status != 400 {
				t.Fatalf("error %v is not a 400 S3 error", err)
			}
			return
		}
		if len(parts) == 0 {
			t.Fatal("empty part list accepted")
		}
		type xmlPart struct {
			PartNumber int    `xml:"PartNumber"`
			ETag       string `xml:"ETag"`
		}
		var doc struct {
			XMLName xml.Name  `xml:"CompleteMultipartUpload"`
			Parts   []xmlPart `xml:"Part"`
		}
		for i, p := range parts {
			if p.PartNumber < 1 || p.PartNumber > backends.MaxPartNumber || (i > 0 && p.PartNumber <= parts[i-1].PartNumber) {
				t.Fatalf("invalid part list accepted: %v", parts)
			}
			if p.ETag == "" || strings.HasPrefix(p.ETag, `"`) || strings.HasSuffix(p.ETag, `"`) {
				t.Fatalf("ETag %q not unquoted", p.ETag)
			}
			doc.Parts = append(doc.Parts, xmlPart{p.PartNumber, `"` + p.ETag + `"`})
		}
		out, err := xml.Marshal(doc)
		if err != nil {
			t.Fatal(err)
		}
		again, err := parseCompleteMultipartUpload(out)
		if err != nil {
			t.Fatalf("re-parse of %s: %v", out, err)
		}
		if !reflect.DeepEqual(again, parts) {
			t.Fatalf("round trip: %v, want %v", again, parts)
		}
	})
}
