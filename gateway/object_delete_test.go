package gateway

import (
	"bytes"
	"context"
	"encoding/xml"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/minio/minio-go/v7"
	miniocreds "github.com/minio/minio-go/v7/pkg/credentials"
)

// deleteBody builds a DeleteObjects document.
func deleteBody(quiet bool, keys ...string) []byte {
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?><Delete xmlns="http://s3.amazonaws.com/doc/2006-03-01/">`)
	if quiet {
		b.WriteString("<Quiet>true</Quiet>")
	}
	for _, k := range keys {
		b.WriteString("<Object><Key>")
		_ = xml.EscapeText(&b, []byte(k))
		b.WriteString("</Key></Object>")
	}
	b.WriteString("</Delete>")
	return b.Bytes()
}

type deleteResultDoc struct {
	Deleted []struct {
		Key string `xml:"Key"`
	} `xml:"Deleted"`
	Errors []struct {
		Key, Code, Message string
	} `xml:"Error"`
}

func TestDeleteObjectsSDK(t *testing.T) {
	g := newTestGateway(t)
	ctx := context.Background()
	objTestBucket(t, g, "bkt")
	keys := []string{"a", "b c", "d+e", "dir/", "dir/f", "ü"}
	for _, k := range keys {
		var data []byte
		if !strings.HasSuffix(k, "/") {
			data = []byte(k)
		}
		objPut(t, g, "bkt", k, data)
	}
	var ids []types.ObjectIdentifier
	for _, k := range append(keys, "never-existed") {
		ids = append(ids, types.ObjectIdentifier{Key: aws.String(k)})
	}
	out, err := g.Client.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: aws.String("bkt"), Delete: &types.Delete{Objects: ids}})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, d := range out.Deleted {
		got = append(got, aws.ToString(d.Key))
	}
	sort.Strings(got)
	want := append([]string{"never-existed"}, keys...)
	sort.Strings(want)
	if strings.Join(got, "|") != strings.Join(want, "|") || len(out.Errors) != 0 {
		t.Errorf("DeleteObjects deleted %q errors %+v; want %q", got, out.Errors, want)
	}
	for _, k := range keys {
		if objExists(t, g, "bkt", k) {
			t.Errorf("%q still exists", k)
		}
	}
	// Quiet mode lists nothing on success.
	objPut(t, g, "bkt", "q", []byte("q"))
	out, err = g.Client.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: aws.String("bkt"),
		Delete: &types.Delete{Objects: []types.ObjectIdentifier{{Key: aws.String("q")}}, Quiet: aws.Bool(true)}})
	if err != nil || len(out.Deleted) != 0 || len(out.Errors) != 0 || objExists(t, g, "bkt", "q") {
		t.Errorf("quiet DeleteObjects: %v %+v", err, out)
	}
}

func TestDeleteObjectsMinio(t *testing.T) {
	g := newTestGateway(t)
	ctx := context.Background()
	objTestBucket(t, g, "bkt")
	for i := 0; i < 30; i++ {
		objPut(t, g, "bkt", fmt.Sprintf("k/%02d", i), []byte("x"))
	}
	mc, err := minio.New(strings.TrimPrefix(g.URL, "http://"), &minio.Options{Creds: miniocreds.NewStaticV4(testAccessKey, testSecretKey, "")})
	if err != nil {
		t.Fatal(err)
	}
	ch := make(chan minio.ObjectInfo)
	go func() {
		defer close(ch)
		for i := 0; i < 30; i++ {
			ch <- minio.ObjectInfo{Key: fmt.Sprintf("k/%02d", i)}
		}
	}()
	for e := range mc.RemoveObjects(ctx, "bkt", ch, minio.RemoveObjectsOptions{}) {
		t.Errorf("minio-go RemoveObjects error: %+v", e)
	}
	for i := 0; i < 30; i++ {
		if objExists(t, g, "bkt", fmt.Sprintf("k/%02d", i)) {
			t.Errorf("k/%02d still exists", i)
		}
	}
}

func TestDeleteObjectsBadInput(t *testing.T) {
	g := newTestGateway(t)
	objTestBucket(t, g, "bkt")
	objPut(t, g, "bkt", "keep", []byte("x"))
	withMD5 := func(b []byte) http.Header { return http.Header{"Content-MD5": {md5B64(b)}} }

	body := deleteBody(false, "keep")
	r := objSend(t, g, "POST", "/bkt?delete", body, nil)
	wantS3Error(t, "DeleteObjects without Content-MD5", r, 400, "InvalidRequest")
	if !strings.Contains(string(r.Body), "Content-MD5") {
		t.Errorf("missing Content-MD5 message: %s", r.Body)
	}
	r = objSend(t, g, "POST", "/bkt?delete", body, withMD5([]byte("other")))
	wantS3Error(t, "DeleteObjects with a wrong Content-MD5", r, 400, "BadDigest")
	r = objSend(t, g, "POST", "/bkt?delete", body, http.Header{"x-amz-checksum-crc32": {crc32B64([]byte("other"))}})
	wantS3Error(t, "DeleteObjects with a wrong CRC32", r, 400, "BadDigest")
	if !objExists(t, g, "bkt", "keep") {
		t.Fatal("a DeleteObjects with a bad digest deleted the key")
	}

	many := make([]string, 1001)
	for i := range many {
		many[i] = fmt.Sprintf("k%d", i)
	}
	huge := deleteBody(false, strings.Repeat("k", 1024))
	huge = append(huge[:len(huge)-len("</Delete>")], []byte("<Pad>"+strings.Repeat("p", maxXMLBody)+"</Pad></Delete>")...)
	for _, c := range []struct {
		name   string
		body   []byte
		status int
		code   string
	}{
		{"1001 keys", deleteBody(false, many...), 400, "MalformedXML"},
		{"no keys", deleteBody(false), 400, "MalformedXML"},
		{"truncated", []byte("<Delete><Object><Key>keep</Key>"), 400, "MalformedXML"},
		{"not xml", []byte("delete keep please"), 400, "MalformedXML"},
		{"wrong root", []byte("<Remove><Object><Key>keep</Key></Object></Remove>"), 400, "MalformedXML"},
		{"bad quiet", []byte("<Delete><Quiet>maybe</Quiet><Object><Key>keep</Key></Object></Delete>"), 400, "MalformedXML"},
		{"empty key", deleteBody(false, ""), 400, "UserKeyMustBeSpecified"},
		{"empty body", nil, 400, "MalformedXML"},
		{"oversized", huge, 400, "MaxMessageLengthExceeded"},
	} {
		r := objSend(t, g, "POST", "/bkt?delete", c.body, withMD5(c.body))
		wantS3Error(t, "DeleteObjects "+c.name, r, c.status, c.code)
	}
	if !objExists(t, g, "bkt", "keep") {
		t.Fatal("a refused DeleteObjects deleted the key")
	}

	// 1000 keys is the limit and works; per-key problems are <Error> entries.
	thousand := many[:1000]
	thousand[0] = "keep"
	thousand[1] = strings.Repeat("L", 1025)
	b := deleteBody(false, thousand...)
	b = bytes.Replace(b, []byte("<Key>k2</Key>"), []byte("<Key>k2</Key><VersionId>3HL4kqtJlcpXroDTDmJ</VersionId>"), 1)
	r = objSend(t, g, "POST", "/bkt?delete", b, withMD5(b))
	if r.Status != 200 {
		t.Fatalf("DeleteObjects of 1000 keys: %d %s", r.Status, r.Body)
	}
	if !bytes.Contains(r.Body, []byte(`<DeleteResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">`)) {
		t.Errorf("DeleteResult without namespace: %.200s", r.Body)
	}
	var res deleteResultDoc
	if err := xml.Unmarshal(r.Body, &res); err != nil {
		t.Fatal(err)
	}
	codes := map[string]string{}
	for _, e := range res.Errors {
		codes[e.Key] = e.Code
	}
	if len(res.Deleted) != 998 || len(res.Errors) != 2 || codes[thousand[1]] != "KeyTooLongError" || codes["k2"] != "NotImplemented" {
		t.Errorf("DeleteObjects of 1000 keys: %d deleted, errors %v", len(res.Deleted), codes)
	}
	if objExists(t, g, "bkt", "keep") {
		t.Error("keep survived")
	}
	// Quiet mode still reports errors.
	b = deleteBody(true, "a", strings.Repeat("L", 1025))
	r = objSend(t, g, "POST", "/bkt?delete", b, withMD5(b))
	res = deleteResultDoc{}
	if err := xml.Unmarshal(r.Body, &res); err != nil || r.Status != 200 || len(res.Deleted) != 0 || len(res.Errors) != 1 {
		t.Errorf("quiet DeleteObjects with an error: %d %s", r.Status, r.Body)
	}
	r = objSend(t, g, "POST", "/nobucket?delete", b, withMD5(b))
	wantS3Error(t, "DeleteObjects on a missing bucket", r, 404, "NoSuchBucket")
}
