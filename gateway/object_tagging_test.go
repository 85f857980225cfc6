package gateway

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

func tagString(ts []types.Tag) string {
	var parts []string
	for _, t := range ts {
		parts = append(parts, aws.ToString(t.Key)+"="+aws.ToString(t.Value))
	}
	return strings.Join(parts, "&")
}

func TestObjectTagging(t *testing.T) {
	g := newTestGateway(t)
	ctx := context.Background()
	objTestBucket(t, g, "bkt")
	if _, err := g.Client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("bkt"), Key: aws.String("k"),
		Body: strings.NewReader("x"), Tagging: aws.String("team=data&tier=hot")}); err != nil {
		t.Fatal(err)
	}
	get := func() string {
		t.Helper()
		out, err := g.Client.GetObjectTagging(ctx, &s3.GetObjectTaggingInput{Bucket: aws.String("bkt"), Key: aws.String("k")})
		if err != nil {
			t.Fatal(err)
		}
		return tagString(out.TagSet)
	}
	if got := get(); got != "team=data&tier=hot" {
		t.Errorf("tags from x-amz-tagging = %q", got)
	}
	r := objSend(t, g, "HEAD", "/bkt/k", nil, nil)
	if r.Header.Get("x-amz-tagging-count") != "2" {
		t.Errorf("x-amz-tagging-count = %q", r.Header.Get("x-amz-tagging-count"))
	}
	if _, err := g.Client.PutObjectTagging(ctx, &s3.PutObjectTaggingInput{Bucket: aws.String("bkt"), Key: aws.String("k"),
		Tagging: &types.Tagging{TagSet: []types.Tag{{Key: aws.String("z"), Value: aws.String("")}, {Key: aws.String("a b"), Value: aws.String("ü")}}}}); err != nil {
		t.Fatal(err)
	}
	if got := get(); got != "a b=ü&z=" {
		t.Errorf("tags after PutObjectTagging = %q", got)
	}
	if string(objGet(t, g, "bkt", "k")) != "x" {
		t.Error("PutObjectTagging changed the content")
	}
	r = objSend(t, g, "GET", "/bkt/k?tagging", nil, nil)
	if !strings.Contains(string(r.Body), `<Tagging xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><TagSet><Tag>`) {
		t.Errorf("GetObjectTagging raw: %s", r.Body)
	}
	r = objSend(t, g, "DELETE", "/bkt/k?tagging", nil, nil)
	if r.Status != http.StatusNoContent {
		t.Errorf("DeleteObjectTagging: %d %s", r.Status, r.Body)
	}
	if got := get(); got != "" {
		t.Errorf("tags after DeleteObjectTagging = %q", got)
	}
	r = objSend(t, g, "GET", "/bkt/k?tagging", nil, nil)
	if r.Status != 200 || !strings.Contains(string(r.Body), "<TagSet></TagSet>") {
		t.Errorf("empty GetObjectTagging: %d %s", r.Status, r.Body)
	}

	// Errors.
	tags := func(n int) string {
		var b strings.Builder
		b.WriteString("<Tagging><TagSet>")
		for i := 0; i < n; i++ {
			fmt.Fprintf(&b, "<Tag><Key>k%d</Key><Value>v</Value></Tag>", i)
		}
		b.WriteString("</TagSet></Tagging>")
		return b.String()
	}
	for _, c := range []struct {
		name, body string
		status     int
		code       string
	}{
		{"11 tags", tags(11), 400, "InvalidTag"},
		{"duplicate key", "<Tagging><TagSet><Tag><Key>a</Key><Value>1</Value></Tag><Tag><Key>a</Key><Value>2</Value></Tag></TagSet></Tagging>", 400, "InvalidTag"},
		{"empty key", "<Tagging><TagSet><Tag><Key></Key><Value>1</Value></Tag></TagSet></Tagging>", 400, "InvalidTag"},
		{"long key", "<Tagging><TagSet><Tag><Key>" + strings.Repeat("k", 129) + "</Key><Value>1</Value></Tag></TagSet></Tagging>", 400, "InvalidTag"},
		{"long value", "<Tagging><TagSet><Tag><Key>k</Key><Value>" + strings.Repeat("v", 257) + "</Value></Tag></TagSet></Tagging>", 400, "InvalidTag"},
		{"no tag set", "<Tagging></Tagging>", 400, "MalformedXML"},
		{"malformed", "<Tagging><TagSet>", 400, "MalformedXML"},
		{"empty", "", 400, "MalformedXML"},
		{"oversized", "<Tagging>" + strings.Repeat(" ", maxXMLBody) + "</Tagging>", 400, "MaxMessageLengthExceeded"},
	} {
		r := objSend(t, g, "PUT", "/bkt/k?tagging", []byte(c.body), nil)
		wantS3Error(t, "PutObjectTagging "+c.name, r, c.status, c.code)
	}
	r = objSend(t, g, "PUT", "/bkt/k?tagging", []byte(tags(10)), nil)
	if r.Status != 200 {
		t.Errorf("PutObjectTagging with 10 tags: %d %s", r.Status, r.Body)
	}
	r = objSend(t, g, "PUT", "/bkt/k?tagging", []byte(tags(1)), http.Header{"Content-MD5": {md5B64([]byte("x"))}})
	wantS3Error(t, "PutObjectTagging with a wrong Content-MD5", r, 400, "BadDigest")
	if got := get(); !strings.HasPrefix(got, "k0=v&k1=v") {
		t.Errorf("tags after refused PutObjectTagging = %q", got)
	}
	_, err := g.Client.GetObjectTagging(ctx, &s3.GetObjectTaggingInput{Bucket: aws.String("bkt"), Key: aws.String("missing")})
	wantAPIError(t, "GetObjectTagging missing", err, 404, "NoSuchKey")
	_, err = g.Client.PutObjectTagging(ctx, &s3.PutObjectTaggingInput{Bucket: aws.String("bkt"), Key: aws.String("missing"),
		Tagging: &types.Tagging{TagSet: []types.Tag{{Key: aws.String("a"), Value: aws.String("b")}}}})
	wantAPIError(t, "PutObjectTagging missing", err, 404, "NoSuchKey")
	r = objSend(t, g, "DELETE", "/bkt/missing?tagging", nil, nil)
	wantS3Error(t, "DeleteObjectTagging missing", r, 404, "NoSuchKey")
}
