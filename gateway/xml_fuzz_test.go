package gateway

import (
	"errors"
	"testing"
	"unicode/utf8"

	"github.com/lakegate/lakegate/backends"
	"github.com/lakegate/lakegate/gateway/s3err"
)

// FuzzXMLBodies feeds arbitrary bytes to every XML request-body parser of
// the gateway: DeleteObjects (Delete), PutObjectTagging (Tagging),
// CreateBucket (CreateBucketConfiguration) and CompleteMultipartUpload. None
// may panic; every rejection must be an S3 client error (4xx), never an
// internal error; and what is accepted must satisfy the limits the handlers
// rely on. The seed corpus is in testdata/fuzz/FuzzXMLBodies.
func FuzzXMLBodies(f *testing.F) {
	for _, s := range []string{
		`<Delete><Object><Key>a</Key></Object><Quiet>true</Quiet></Delete>`,
		`<Tagging><TagSet><Tag><Key>k</Key><Value>v</Value></Tag></TagSet></Tagging>`,
		`<CreateBucketConfiguration><LocationConstraint>posix</LocationConstraint></CreateBucketConfiguration>`,
		`<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>"x"</ETag></Part></CompleteMultipartUpload>`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		clientErr := func(what string, err error) {
			var se *s3err.Error
			if !errors.As(err, &se) {
				t.Fatalf("%s: error %v is not an S3 error", what, err)
			}
			if se.Status < 400 || se.Status >= 500 {
				t.Fatalf("%s: error %v has status %d, want a 4xx", what, err, se.Status)
			}
		}

		if d, err := parseDeleteRequest(data); err != nil {
			clientErr("parseDeleteRequest", err)
		} else {
			if len(d.Objects) < 1 || len(d.Objects) > maxDeleteObjects {
				t.Fatalf("parseDeleteRequest accepted %d objects", len(d.Objects))
			}
			for _, o := range d.Objects {
				if o.Key == "" {
					t.Fatal("parseDeleteRequest accepted an empty key")
				}
			}
		}

		if tags, err := parseTagging(data); err != nil {
			clientErr("parseTagging", err)
		} else {
			if len(tags) > 10 {
				t.Fatalf("parseTagging accepted %d tags", len(tags))
			}
			for k, v := range tags {
				if k == "" || !utf8.ValidString(k) || !utf8.ValidString(v) || utf8.RuneCountInString(k) > 128 || utf8.RuneCountInString(v) > 256 {
					t.Fatalf("parseTagging accepted tag %q=%q", k, v)
				}
			}
		}

		if _, err := parseCreateBucketConfiguration(data); err != nil {
			clientErr("parseCreateBucketConfiguration", err)
		}

		if parts, err := parseCompleteMultipartUpload(data); err != nil {
			clientErr("parseCompleteMultipartUpload", err)
		} else {
			for _, p := range parts {
				if p.PartNumber < 1 || p.PartNumber > backends.MaxPartNumber {
					t.Fatalf("parseCompleteMultipartUpload accepted part number %d", p.PartNumber)
				}
			}
		}
	})
}

// TestXMLParsersRejectWithClientErrors pins a few inputs of the fuzz target
// to their exact S3 error codes.
func TestXMLParsersRejectWithClientErrors(t *testing.T) {
	code := func(err error) string {
		var se *s3err.Error
		if errors.As(err, &se) {
			return se.Code
		}
		return ""
	}
	for _, c := range []struct {
		in        string
		del, tags string
	}{
		{"", "MalformedXML", "MalformedXML"},
		{"<", "MalformedXML", "MalformedXML"},
		{"<Delete></Delete>", "MalformedXML", "MalformedXML"},
		{"<Delete><Object><Key></Key></Object></Delete>", "UserKeyMustBeSpecified", "MalformedXML"},
		{"<Delete><Object><Key>&#0;</Key></Object></Delete>", "MalformedXML", "MalformedXML"},
		{"<Tagging><TagSet/></Tagging>", "MalformedXML", ""},
		{"<Tagging><TagSet><Tag><Key>a</Key></Tag><Tag><Key>a</Key></Tag></TagSet></Tagging>", "MalformedXML", "InvalidTag"},
	} {
		_, err := parseDeleteRequest([]byte(c.in))
		if code(err) != c.del {
			t.Errorf("parseDeleteRequest(%q) = %v, want %s", c.in, err, c.del)
		}
		_, err = parseTagging([]byte(c.in))
		if code(err) != c.tags {
			t.Errorf("parseTagging(%q) = %v, want %q", c.in, err, c.tags)
		}
	}
	if loc, err := parseCreateBucketConfiguration([]byte(" \n")); err != nil || loc != "" {
		t.Errorf("blank CreateBucketConfiguration = %q, %v", loc, err)
	}
	if _, err := parseCreateBucketConfiguration([]byte("<Other/>")); code(err) != "MalformedXML" {
		t.Errorf("wrong root: %v", err)
	}
}
