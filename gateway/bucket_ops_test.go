package gateway

import (
	"context"
	"encoding/xml"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

func TestBucketLifecycle(t *testing.T) {
	g := newTestGateway(t)
	ctx := context.Background()
	before := time.Now().Add(-2 * time.Second)
	objTestBucket(t, g, "alpha")
	objTestBucket(t, g, "beta.data-1")

	lb, err := g.Client.ListBuckets(ctx, &s3.ListBucketsInput{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, b := range lb.Buckets {
		names = append(names, aws.ToString(b.Name))
		if b.CreationDate == nil || b.CreationDate.Before(before) || b.CreationDate.After(time.Now().Add(2*time.Second)) {
			t.Errorf("bucket %s CreationDate %v, want about now", aws.ToString(b.Name), b.CreationDate)
		}
	}
	if strings.Join(names, ",") != "alpha,beta.data-1" {
		t.Errorf("ListBuckets = %v, want [alpha beta.data-1]", names)
	}
	if lb.Owner == nil || aws.ToString(lb.Owner.ID) == "" {
		t.Errorf("ListBuckets owner = %+v, want an ID", lb.Owner)
	}

	// Raw: namespace and millisecond time format.
	r := objSend(t, g, "GET", "/", nil, nil)
	if r.Status != 200 || !strings.Contains(string(r.Body), `xmlns="http://s3.amazonaws.com/doc/2006-03-01/"`) {
		t.Errorf("ListBuckets raw: %d %s", r.Status, r.Body)
	}
	var raw struct {
		Dates []string `xml:"Buckets>Bucket>CreationDate"`
	}
	if err := xml.Unmarshal(r.Body, &raw); err != nil || len(raw.Dates) != 2 {
		t.Fatalf("ListBuckets body: %v %s", err, r.Body)
	}
	if _, err := time.Parse("2006-01-02T15:04:05.000Z", raw.Dates[0]); err != nil {
		t.Errorf("CreationDate %q is not RFC 3339 with milliseconds: %v", raw.Dates[0], err)
	}

	// Paging.
	p1, err := g.Client.ListBuckets(ctx, &s3.ListBucketsInput{MaxBuckets: aws.Int32(1)})
	if err != nil || len(p1.Buckets) != 1 || aws.ToString(p1.Buckets[0].Name) != "alpha" || p1.ContinuationToken == nil {
		t.Fatalf("ListBuckets page 1: %v %+v", err, p1)
	}
	p2, err := g.Client.ListBuckets(ctx, &s3.ListBucketsInput{MaxBuckets: aws.Int32(1), ContinuationToken: p1.ContinuationToken})
	if err != nil || len(p2.Buckets) != 1 || aws.ToString(p2.Buckets[0].Name) != "beta.data-1" {
		t.Fatalf("ListBuckets page 2: %v %+v", err, p2)
	}
	if p2.ContinuationToken != nil {
		t.Errorf("last page has a continuation token %q", aws.ToString(p2.ContinuationToken))
	}
	pp, err := g.Client.ListBuckets(ctx, &s3.ListBucketsInput{Prefix: aws.String("be")})
	if err != nil || len(pp.Buckets) != 1 || aws.ToString(pp.Buckets[0].Name) != "beta.data-1" {
		t.Errorf("ListBuckets prefix be: %v %+v", err, pp)
	}

	// HeadBucket and region.
	r = objSend(t, g, "HEAD", "/alpha", nil, nil)
	if r.Status != 200 || r.Header.Get("x-amz-bucket-region") != "us-east-1" {
		t.Errorf("HeadBucket: %d region %q", r.Status, r.Header.Get("x-amz-bucket-region"))
	}
	r = objSend(t, g, "HEAD", "/nosuchbucket", nil, nil)
	if r.Status != 404 || len(r.Body) != 0 {
		t.Errorf("HeadBucket missing: %d %q", r.Status, r.Body)
	}

	// GetBucketLocation returns the backend name.
	loc, err := g.Client.GetBucketLocation(ctx, &s3.GetBucketLocationInput{Bucket: aws.String("alpha")})
	if err != nil || string(loc.LocationConstraint) != "posix" {
		t.Errorf("GetBucketLocation = %v, %v; want posix", loc, err)
	}

	// Creating an existing bucket.
	_, err = g.Client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("alpha")})
	wantAPIError(t, "CreateBucket existing", err, 409, "BucketAlreadyOwnedByYou")

	// DeleteBucket: not empty, then empty, then gone.
	objPut(t, g, "alpha", "k", []byte("x"))
	_, err = g.Client.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String("alpha")})
	wantAPIError(t, "DeleteBucket not empty", err, 409, "BucketNotEmpty")
	if _, err := g.Client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("alpha"), Key: aws.String("k")}); err != nil {
		t.Fatal(err)
	}
	r = objSend(t, g, "DELETE", "/alpha", nil, nil)
	if r.Status != http.StatusNoContent {
		t.Errorf("DeleteBucket empty: %d %s", r.Status, r.Body)
	}
	_, err = g.Client.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String("alpha")})
	wantAPIError(t, "HeadBucket deleted", err, 404, "")
	_, err = g.Client.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String("alpha")})
	wantAPIError(t, "DeleteBucket deleted", err, 404, "NoSuchBucket")
	_, err = g.Client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("alpha"), Key: aws.String("k"), Body: strings.NewReader("x")})
	wantAPIError(t, "PutObject into deleted bucket", err, 404, "NoSuchBucket")
}

func TestCreateBucketInvalidName(t *testing.T) {
	g := newTestGateway(t)
	for _, name := range []string{
		"ab", strings.Repeat("a", 64), "Upper", "under_score", "-dash", "dash-", ".dot", "dot.",
		"two..dots", "192.168.5.4", "xn--punycode", "sthree-x", "amzn-s3-demo-bucket", "b-s3alias",
		"b--ol-s3", "b.mrap", "b--x-s3", "b--table-s3", "sp%20ace",
	} {
		r := objSend(t, g, "PUT", "/"+name, nil, nil)
		wantS3Error(t, "CreateBucket "+name, r, 400, "InvalidBucketName")
	}
	for _, name := range []string{"abc", strings.Repeat("a", 63), "a.b-c.1", "192.168.5"} {
		r := objSend(t, g, "PUT", "/"+name, nil, nil)
		if r.Status != 200 {
			t.Errorf("CreateBucket %s: %d %s", name, r.Status, r.Body)
		}
	}
}

func TestCreateBucketLocationConstraint(t *testing.T) {
	g := newMultiGateway(t, nil, "hot", "cold")
	ctx := context.Background()
	body := func(loc string) []byte {
		return []byte(`<CreateBucketConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><LocationConstraint>` +
			loc + `</LocationConstraint></CreateBucketConfiguration>`)
	}
	// The SDK sends the configuration document.
	if _, err := g.Client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("on-cold"),
		CreateBucketConfiguration: &types.CreateBucketConfiguration{LocationConstraint: "cold"}}); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		bucket, body string
		status       int
		code, where  string
	}{
		{"plain", "", 200, "", "hot"},
		{"on-hot", string(body("hot")), 200, "", "hot"},
		{"region", string(body("us-east-1")), 200, "", "hot"},
		{"empty-loc", string(body("")), 200, "", "hot"},
		{"nowhere", string(body("eu-central-7")), 400, "InvalidLocationConstraint", ""},
		{"malformed", "<CreateBucketConfiguration><LocationConstraint>", 400, "MalformedXML", ""},
		{"wrong-root", "<Foo/>", 400, "MalformedXML", ""},
		{"huge", "<CreateBucketConfiguration>" + strings.Repeat(" ", maxXMLBody) + "</CreateBucketConfiguration>", 400, "MaxMessageLengthExceeded", ""},
		{"on-cold", string(body("hot")), 409, "BucketAlreadyOwnedByYou", ""},
	}
	for _, c := range cases {
		r := objSend(t, g, "PUT", "/"+c.bucket, []byte(c.body), nil)
		if c.status != 200 {
			wantS3Error(t, "CreateBucket "+c.bucket, r, c.status, c.code)
			continue
		}
		if r.Status != 200 {
			t.Errorf("CreateBucket %s: %d %s", c.bucket, r.Status, r.Body)
			continue
		}
		loc, err := g.Client.GetBucketLocation(ctx, &s3.GetBucketLocationInput{Bucket: aws.String(c.bucket)})
		if err != nil || string(loc.LocationConstraint) != c.where {
			t.Errorf("GetBucketLocation %s = %v %v, want %s", c.bucket, loc, err, c.where)
		}
	}
	loc, err := g.Client.GetBucketLocation(ctx, &s3.GetBucketLocationInput{Bucket: aws.String("on-cold")})
	if err != nil || string(loc.LocationConstraint) != "cold" {
		t.Errorf("GetBucketLocation on-cold = %v %v", loc, err)
	}
	for _, b := range []string{"nowhere", "malformed", "huge"} {
		if _, err := g.Client.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(b)}); err == nil {
			t.Errorf("failed CreateBucket %s left a bucket", b)
		}
	}
	// Objects land on the chosen backend: the same key in buckets on both
	// backends holds different content.
	objPut(t, g, "on-cold", "k", []byte("cold data"))
	objPut(t, g, "plain", "k", []byte("hot data"))
	if got := string(objGet(t, g, "on-cold", "k")); got != "cold data" {
		t.Errorf("on-cold/k = %q", got)
	}
	// A ListBuckets covers both backends.
	lb, err := g.Client.ListBuckets(ctx, &s3.ListBucketsInput{})
	if err != nil || len(lb.Buckets) != 5 {
		t.Errorf("ListBuckets over two backends: %v %d buckets", err, len(lb.Buckets))
	}
}
