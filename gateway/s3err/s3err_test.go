package s3err

import (
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/lakegate/lakegate/backends"
)

// TestEverySentinelMapped parses package backends and checks that each
// exported Err* variable maps to a specific S3 error, so a new sentinel cannot
// silently become InternalError.
func TestEverySentinelMapped(t *testing.T) {
	fset := token.NewFileSet()
	pkgs, err := parser.ParseDir(fset, "../../backends", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range pkgs {
		for _, f := range p.Files {
			for _, d := range f.Decls {
				g, ok := d.(*ast.GenDecl)
				if !ok || g.Tok != token.VAR {
					continue
				}
				for _, s := range g.Specs {
					for _, n := range s.(*ast.ValueSpec).Names {
						if strings.HasPrefix(n.Name, "Err") {
							names = append(names, n.Name)
						}
					}
				}
			}
		}
	}
	if len(names) < 10 {
		t.Fatalf("found only %d sentinels in package backends: %v", len(names), names)
	}
	mapped := map[string]bool{}
	for _, m := range sentinelTable {
		wrapped := fmt.Errorf("ctx: %w", m.sentinel)
		got, known := FromError(wrapped)
		if !known || got != m.s3 {
			t.Errorf("FromError(%v) = %v, %v; want %v", wrapped, got, known, m.s3.Code)
		}
		for _, n := range names {
			if m.sentinel.Error() == sentinelByName(n).Error() {
				mapped[n] = true
			}
		}
	}
	for _, n := range names {
		if !mapped[n] {
			t.Errorf("backends.%s has no S3 error mapping", n)
		}
	}
}

func sentinelByName(n string) error {
	m := map[string]error{
		"ErrBucketNotFound": backends.ErrBucketNotFound, "ErrBucketExists": backends.ErrBucketExists,
		"ErrBucketNotEmpty": backends.ErrBucketNotEmpty, "ErrInvalidBucketName": backends.ErrInvalidBucketName,
		"ErrObjectNotFound": backends.ErrObjectNotFound, "ErrInvalidObjectName": backends.ErrInvalidObjectName,
		"ErrKeyConflict": backends.ErrKeyConflict, "ErrPreconditionFailed": backends.ErrPreconditionFailed,
		"ErrConditionalConflict": backends.ErrConditionalConflict, "ErrUploadNotFound": backends.ErrUploadNotFound,
		"ErrInvalidPart": backends.ErrInvalidPart, "ErrInvalidPartOrder": backends.ErrInvalidPartOrder,
		"ErrEntityTooSmall": backends.ErrEntityTooSmall, "ErrNotImplemented": backends.ErrNotImplemented,
		"ErrSlowDown": backends.ErrSlowDown, "ErrUnavailable": backends.ErrUnavailable,
		"ErrInvalidRange": backends.ErrInvalidRange, "ErrAccessDenied": backends.ErrAccessDenied,
		"ErrMetadataTooLarge": backends.ErrMetadataTooLarge,
	}
	if e, ok := m[n]; ok {
		return e
	}
	return errors.New("unmapped sentinel " + n + " (add it to sentinelByName and sentinelTable)")
}

func TestFromErrorPrecedenceAndUnknown(t *testing.T) {
	e := fmt.Errorf("put: %w", BadDigest.With("crc32 mismatch"))
	got, known := FromError(e)
	if !known || got.Code != "BadDigest" || got.ResponseMessage() != "crc32 mismatch" {
		t.Fatalf("got %+v %v", got, known)
	}
	got, known = FromError(errors.New("disk on fire"))
	if known || got != InternalError {
		t.Fatalf("unknown error: got %v %v", got, known)
	}
	if !errors.Is(NoSuchKey.With("x"), NoSuchKey) {
		t.Fatal("Is by code")
	}
}

func TestWriteXMLAndHead(t *testing.T) {
	rec := httptest.NewRecorder()
	Write(rec, httptest.NewRequest("GET", "/b/k", nil), NoSuchKey, "REQ1", "/b/k")
	if rec.Code != 404 || !strings.Contains(rec.Body.String(), "<Code>NoSuchKey</Code>") ||
		!strings.Contains(rec.Body.String(), "<RequestId>REQ1</RequestId>") || rec.Header().Get("x-amz-request-id") != "REQ1" {
		t.Fatalf("bad response %d %q", rec.Code, rec.Body.String())
	}
	rec = httptest.NewRecorder()
	Write(rec, httptest.NewRequest("HEAD", "/b/k", nil), NoSuchKey, "REQ2", "/b/k")
	if rec.Code != http.StatusNotFound || rec.Body.Len() != 0 {
		t.Fatalf("HEAD must have no body: %d %q", rec.Code, rec.Body.String())
	}
}
