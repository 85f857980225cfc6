package gateway

import (
	"encoding/xml"
	"fmt"
	"net/url"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// listV2All pages through ListObjectsV2 with the SDK and returns every key
// and common prefix in the order received, failing on a page larger than
// maxKeys or a truncated page without a token.
func listV2All(t *testing.T, g *testGateway, in s3.ListObjectsV2Input) (keys, prefixes []string, pages int) {
	t.Helper()
	for {
		out, err := g.Client.ListObjectsV2(t.Context(), &in)
		if err != nil {
			t.Fatalf("ListObjectsV2 page %d: %v", pages, err)
		}
		pages++
		limit := int32(1000)
		if in.MaxKeys != nil && *in.MaxKeys < limit {
			limit = *in.MaxKeys
		}
		n := len(out.Contents) + len(out.CommonPrefixes)
		if int32(n) > limit || aws.ToInt32(out.KeyCount) != int32(n) {
			t.Fatalf("page %d: %d entries, KeyCount %d, limit %d", pages, n, aws.ToInt32(out.KeyCount), limit)
		}
		for _, o := range out.Contents {
			keys = append(keys, aws.ToString(o.Key))
		}
		for _, p := range out.CommonPrefixes {
			prefixes = append(prefixes, aws.ToString(p.Prefix))
		}
		if !aws.ToBool(out.IsTruncated) {
			return keys, prefixes, pages
		}
		if out.NextContinuationToken == nil || *out.NextContinuationToken == "" {
			t.Fatalf("page %d truncated without NextContinuationToken", pages)
		}
		in.ContinuationToken = out.NextContinuationToken
		in.StartAfter = nil
	}
}

// listV1All pages through ListObjects (V1) the way S3A does: marker =
// NextMarker, or the last key when NextMarker is absent.
func listV1All(t *testing.T, g *testGateway, in s3.ListObjectsInput) (keys, prefixes []string, pages int) {
	t.Helper()
	for {
		out, err := g.Client.ListObjects(t.Context(), &in)
		if err != nil {
			t.Fatalf("ListObjects page %d: %v", pages, err)
		}
		pages++
		for _, o := range out.Contents {
			keys = append(keys, aws.ToString(o.Key))
		}
		for _, p := range out.CommonPrefixes {
			prefixes = append(prefixes, aws.ToString(p.Prefix))
		}
		if !aws.ToBool(out.IsTruncated) {
			return keys, prefixes, pages
		}
		switch {
		case in.Delimiter != nil && out.NextMarker == nil:
			t.Fatalf("page %d: truncated delimited listing without NextMarker", pages)
		case in.Delimiter == nil && out.NextMarker != nil:
			t.Fatalf("page %d: NextMarker %q without a delimiter (S3 sends it only with one)", pages, *out.NextMarker)
		case out.NextMarker != nil:
			in.Marker = out.NextMarker
		default:
			in.Marker = out.Contents[len(out.Contents)-1].Key
		}
	}
}

func TestListOrderBytewiseAndDelimiter(t *testing.T) {
	g := newTestGateway(t)
	bucket := listNewBucket(t, g)
	keys := []string{"a0", "a/", "a/b", "a-b/x", "b", "c/d/e", "é", "z~"}
	listPut(t, g, bucket, keys...)

	want := append([]string(nil), keys...)
	sort.Strings(want) // Go compares strings bytewise, as S3 does
	if want[0] != "a-b/x" || want[1] != "a/" || want[3] != "a0" {
		t.Fatalf("test premise: byte order %q", want)
	}
	got, _, _ := listV2All(t, g, s3.ListObjectsV2Input{Bucket: aws.String(bucket)})
	if !reflect.DeepEqual(got, want) {
		t.Errorf("V2 flat: got %q, want %q", got, want)
	}
	got, _, _ = listV1All(t, g, s3.ListObjectsInput{Bucket: aws.String(bucket)})
	if !reflect.DeepEqual(got, want) {
		t.Errorf("V1 flat: got %q, want %q", got, want)
	}

	cases := []struct {
		prefix, delimiter string
		keys, prefixes    []string
	}{
		{"", "/", []string{"a0", "b", "z~", "é"}, []string{"a-b/", "a/", "c/"}},
		{"a/", "/", []string{"a/", "a/b"}, nil},
		{"a", "/", []string{"a0"}, []string{"a-b/", "a/"}},
		{"c/", "/", nil, []string{"c/d/"}},
		{"", "b", []string{"a/", "a0", "c/d/e", "z~", "é"}, []string{"a-b", "a/b", "b"}},
		{"nothing", "/", nil, nil},
	}
	for _, c := range cases {
		for _, mk := range []int32{1000, 1, 2} {
			in := s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(c.prefix), Delimiter: aws.String(c.delimiter), MaxKeys: aws.Int32(mk)}
			k, p, _ := listV2All(t, g, in)
			if !reflect.DeepEqual(k, c.keys) || !reflect.DeepEqual(p, c.prefixes) {
				t.Errorf("V2 prefix %q delimiter %q max-keys %d: got %q %q, want %q %q", c.prefix, c.delimiter, mk, k, p, c.keys, c.prefixes)
			}
			k, p, _ = listV1All(t, g, s3.ListObjectsInput{Bucket: aws.String(bucket), Prefix: aws.String(c.prefix), Delimiter: aws.String(c.delimiter), MaxKeys: aws.Int32(mk)})
			if !reflect.DeepEqual(k, c.keys) || !reflect.DeepEqual(p, c.prefixes) {
				t.Errorf("V1 prefix %q delimiter %q max-keys %d: got %q %q, want %q %q", c.prefix, c.delimiter, mk, k, p, c.keys, c.prefixes)
			}
		}
	}

	// S3A's directory probe: prefix=dir/ delimiter=/ max-keys=2.
	out, err := g.Client.ListObjectsV2(t.Context(), &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String("a/"), Delimiter: aws.String("/"), MaxKeys: aws.Int32(2)})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Contents) != 2 || aws.ToString(out.Contents[0].Key) != "a/" || aws.ToBool(out.IsTruncated) {
		t.Errorf("S3A probe: %+v", out)
	}
}

func TestListEntryFields(t *testing.T) {
	g := newTestGateway(t)
	bucket := listNewBucket(t, g)
	listPut(t, g, bucket, "k1", "dir/")
	head, err := g.Client.HeadObject(t.Context(), &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String("k1")})
	if err != nil {
		t.Fatal(err)
	}
	out, err := g.Client.ListObjectsV2(t.Context(), &s3.ListObjectsV2Input{Bucket: aws.String(bucket)})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Contents) != 2 {
		t.Fatalf("contents %+v", out.Contents)
	}
	dir, k1 := out.Contents[0], out.Contents[1]
	if aws.ToString(k1.ETag) != aws.ToString(head.ETag) || !strings.HasPrefix(aws.ToString(k1.ETag), `"`) {
		t.Errorf("list ETag %s, HEAD ETag %s", aws.ToString(k1.ETag), aws.ToString(head.ETag))
	}
	if aws.ToInt64(k1.Size) != int64(len("v:k1")) || aws.ToInt64(dir.Size) != 0 {
		t.Errorf("sizes %d %d", aws.ToInt64(k1.Size), aws.ToInt64(dir.Size))
	}
	if k1.StorageClass != types.ObjectStorageClassStandard {
		t.Errorf("storage class %q", k1.StorageClass)
	}
	if k1.LastModified == nil || !k1.LastModified.Truncate(time.Second).Equal(head.LastModified.Truncate(time.Second)) {
		t.Errorf("LastModified list %v head %v", k1.LastModified, head.LastModified)
	}
	if k1.Owner != nil {
		t.Errorf("V2 without fetch-owner returned Owner %+v", k1.Owner)
	}
	out, err = g.Client.ListObjectsV2(t.Context(), &s3.ListObjectsV2Input{Bucket: aws.String(bucket), FetchOwner: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	if o := out.Contents[0].Owner; o == nil || aws.ToString(o.DisplayName) == "" {
		t.Errorf("V2 fetch-owner: Owner %+v", o)
	}
	v1, err := g.Client.ListObjects(t.Context(), &s3.ListObjectsInput{Bucket: aws.String(bucket)})
	if err != nil {
		t.Fatal(err)
	}
	if o := v1.Contents[0].Owner; o == nil || aws.ToString(o.DisplayName) == "" {
		t.Errorf("V1: Owner %+v", o)
	}

	// Millisecond timestamps and no EncodingType unless asked, in the raw XML.
	r := listRaw(t, g, "GET", "/"+bucket, map[string]string{"list-type": "2"}, nil, nil)
	if r.Status != 200 || strings.Contains(string(r.Body), "EncodingType") {
		t.Errorf("raw V2: %d %s", r.Status, r.Body)
	}
	var doc struct {
		Contents []struct{ LastModified string }
	}
	if err := xml.Unmarshal(r.Body, &doc); err != nil || len(doc.Contents) != 2 {
		t.Fatalf("raw V2 body %s: %v", r.Body, err)
	}
	if _, err := time.Parse("2006-01-02T15:04:05.000Z", doc.Contents[0].LastModified); err != nil {
		t.Errorf("LastModified %q: %v", doc.Contents[0].LastModified, err)
	}
}

// listKeys returns n distinct keys, flat and under a few prefixes, none of
// them both an object and a prefix (which a posix backend refuses).
func listKeys(n int) []string {
	keys := make([]string, 0, n)
	for i := 0; i < n; i++ {
		switch i % 4 {
		case 0:
			keys = append(keys, fmt.Sprintf("k%05d", i))
		case 1:
			keys = append(keys, fmt.Sprintf("d%d/f%05d", i%7, i))
		case 2:
			keys = append(keys, fmt.Sprintf("k%05d/sub", i))
		default:
			keys = append(keys, fmt.Sprintf("k%05d-x", i))
		}
	}
	return keys
}

func TestListPagingOverThousand(t *testing.T) {
	g := newTestGateway(t)
	bucket := listNewBucket(t, g)
	keys := listKeys(1203)
	listPut(t, g, bucket, keys...)
	want := append([]string(nil), keys...)
	sort.Strings(want)

	// The first default page is capped at 1000 and truncated; a larger
	// max-keys is capped too.
	for _, mk := range []*int32{nil, aws.Int32(5000)} {
		out, err := g.Client.ListObjectsV2(t.Context(), &s3.ListObjectsV2Input{Bucket: aws.String(bucket), MaxKeys: mk})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Contents) != 1000 || !aws.ToBool(out.IsTruncated) || aws.ToInt32(out.MaxKeys) != 1000 {
			t.Errorf("max-keys %v: %d keys, truncated %v, MaxKeys %d", mk, len(out.Contents), aws.ToBool(out.IsTruncated), aws.ToInt32(out.MaxKeys))
		}
	}

	for _, mk := range []int32{1000, 999, 250, 101} {
		got, _, pages := listV2All(t, g, s3.ListObjectsV2Input{Bucket: aws.String(bucket), MaxKeys: aws.Int32(mk)})
		if !reflect.DeepEqual(got, want) {
			t.Errorf("V2 max-keys %d: %d keys, want %d in order", mk, len(got), len(want))
		}
		if wantPages := (len(want) + int(mk) - 1) / int(mk); pages != wantPages {
			t.Errorf("V2 max-keys %d: %d pages, want %d", mk, pages, wantPages)
		}
		got, _, _ = listV1All(t, g, s3.ListObjectsInput{Bucket: aws.String(bucket), MaxKeys: aws.Int32(mk)})
		if !reflect.DeepEqual(got, want) {
			t.Errorf("V1 max-keys %d: %d keys, want %d in order", mk, len(got), len(want))
		}
	}

	// Delimited paging: every key without "/" plus each first-level prefix once.
	var wantKeys, wantPrefixes []string
	seen := map[string]bool{}
	for _, k := range want {
		if i := strings.Index(k, "/"); i >= 0 {
			if !seen[k[:i+1]] {
				seen[k[:i+1]] = true
				wantPrefixes = append(wantPrefixes, k[:i+1])
			}
		} else {
			wantKeys = append(wantKeys, k)
		}
	}
	for _, mk := range []int32{1000, 37} {
		k, p, _ := listV2All(t, g, s3.ListObjectsV2Input{Bucket: aws.String(bucket), Delimiter: aws.String("/"), MaxKeys: aws.Int32(mk)})
		if !reflect.DeepEqual(k, wantKeys) || !reflect.DeepEqual(p, wantPrefixes) {
			t.Errorf("V2 delimited max-keys %d: %d keys %d prefixes, want %d %d", mk, len(k), len(p), len(wantKeys), len(wantPrefixes))
		}
		k, p, _ = listV1All(t, g, s3.ListObjectsInput{Bucket: aws.String(bucket), Delimiter: aws.String("/"), MaxKeys: aws.Int32(mk)})
		if !reflect.DeepEqual(k, wantKeys) || !reflect.DeepEqual(p, wantPrefixes) {
			t.Errorf("V1 delimited max-keys %d: %d keys %d prefixes, want %d %d", mk, len(k), len(p), len(wantKeys), len(wantPrefixes))
		}
	}

	// start-after and marker resume strictly after the given key.
	got, _, _ := listV2All(t, g, s3.ListObjectsV2Input{Bucket: aws.String(bucket), StartAfter: aws.String(want[600])})
	if !reflect.DeepEqual(got, want[601:]) {
		t.Errorf("start-after: got %d keys, want %d", len(got), len(want[601:]))
	}
	got, _, _ = listV1All(t, g, s3.ListObjectsInput{Bucket: aws.String(bucket), Marker: aws.String(want[1100])})
	if !reflect.DeepEqual(got, want[1101:]) {
		t.Errorf("marker: got %d keys, want %d", len(got), len(want[1101:]))
	}
}

func TestListPagingStableWhileKeysChange(t *testing.T) {
	g := newTestGateway(t)
	bucket := listNewBucket(t, g)
	var stable, volatile []string
	for i := 0; i < 60; i++ {
		stable = append(stable, fmt.Sprintf("s%03d", i*2))
		volatile = append(volatile, fmt.Sprintf("s%03d", i*2+1))
	}
	listPut(t, g, bucket, stable...)
	listPut(t, g, bucket, volatile...)

	for _, v := range []string{"V1", "V2"} {
		seen := map[string]int{}
		in2 := s3.ListObjectsV2Input{Bucket: aws.String(bucket), MaxKeys: aws.Int32(7)}
		in1 := s3.ListObjectsInput{Bucket: aws.String(bucket), MaxKeys: aws.Int32(7)}
		for page := 0; ; page++ {
			var got []string
			truncated := false
			if v == "V2" {
				out, err := g.Client.ListObjectsV2(t.Context(), &in2)
				if err != nil {
					t.Fatal(err)
				}
				for _, o := range out.Contents {
					got = append(got, aws.ToString(o.Key))
				}
				truncated, in2.ContinuationToken = aws.ToBool(out.IsTruncated), out.NextContinuationToken
			} else {
				out, err := g.Client.ListObjects(t.Context(), &in1)
				if err != nil {
					t.Fatal(err)
				}
				for _, o := range out.Contents {
					got = append(got, aws.ToString(o.Key))
				}
				truncated = aws.ToBool(out.IsTruncated)
				if len(got) > 0 {
					in1.Marker = aws.String(got[len(got)-1])
				}
			}
			for _, k := range got {
				seen[k]++
			}
			if !truncated {
				break
			}
			// Between pages, add keys before and after the cursor and
			// remove volatile ones on both sides.
			listPut(t, g, bucket, fmt.Sprintf("%s-new-%02d", v, page), fmt.Sprintf("s%03d-new", page*9))
			listDelete(t, g, bucket, volatile[(page*5)%len(volatile)], volatile[(page*11+3)%len(volatile)])
		}
		for _, k := range stable {
			if seen[k] != 1 {
				t.Errorf("%s: stable key %s seen %d times", v, k, seen[k])
			}
		}
		for k, n := range seen {
			if n > 1 {
				t.Errorf("%s: key %s seen %d times", v, k, n)
			}
		}
		listPut(t, g, bucket, volatile...)
	}
}

func TestListEncodingTypeURL(t *testing.T) {
	g := newTestGateway(t)
	bucket := listNewBucket(t, g)
	keys := []string{
		"dir with space/file name.txt",
		"plus+sign/a+b",
		"percent%20literal/100%",
		"unicode/ü日本/😀",
		"ctl/tab\there",
		"ctl/bell\x07/x",
		"ctl/nl\nx",
		"ctl/cr\rx",
		"amp&lt<gt>\"quote'",
		"year=2024/month=01/part-0000.parquet",
		"eq=%3D/x",
	}
	listPut(t, g, bucket, keys...)
	want := append([]string(nil), keys...)
	sort.Strings(want)

	decoders := map[string]func(string) (string, error){
		"percent": url.PathUnescape,
		"form":    url.QueryUnescape, // what the AWS SDK for Java v2 applies
	}
	out, err := g.Client.ListObjectsV2(t.Context(), &s3.ListObjectsV2Input{Bucket: aws.String(bucket), EncodingType: types.EncodingTypeUrl})
	if err != nil {
		t.Fatal(err)
	}
	if out.EncodingType != types.EncodingTypeUrl {
		t.Errorf("EncodingType %q", out.EncodingType)
	}
	for name, dec := range decoders {
		var got []string
		for _, o := range out.Contents {
			k, err := dec(aws.ToString(o.Key))
			if err != nil {
				t.Fatalf("%s-decode %q: %v", name, aws.ToString(o.Key), err)
			}
			got = append(got, k)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s-decoded keys:\n got %q\nwant %q", name, got, want)
		}
	}
	for _, o := range out.Contents {
		if k := aws.ToString(o.Key); strings.ContainsAny(k, " +\t\n") {
			t.Errorf("encoded key %q still has a space, plus or control character", k)
		}
	}

	// Delimiter, prefix, start-after and common prefixes are encoded too,
	// in V2 and V1, and paging with encoded results still works.
	r := listRaw(t, g, "GET", "/"+bucket, map[string]string{
		"list-type": "2", "encoding-type": "url", "prefix": "dir with space/", "delimiter": " ", "start-after": "dir with space/",
	}, nil, nil)
	var v2 struct {
		Prefix, Delimiter, StartAfter, EncodingType string
		Contents                                    []struct{ Key string }
		CommonPrefixes                              []struct{ Prefix string }
	}
	if err := xml.Unmarshal(r.Body, &v2); err != nil {
		t.Fatalf("%d %s: %v", r.Status, r.Body, err)
	}
	if v2.Prefix != "dir%20with%20space/" || v2.Delimiter != "%20" || v2.StartAfter != "dir%20with%20space/" || v2.EncodingType != "url" {
		t.Errorf("V2 echo: %+v", v2)
	}
	if len(v2.CommonPrefixes) != 1 || v2.CommonPrefixes[0].Prefix != "dir%20with%20space/file%20" {
		t.Errorf("V2 common prefixes %+v", v2.CommonPrefixes)
	}
	r = listRaw(t, g, "GET", "/"+bucket, map[string]string{
		"encoding-type": "url", "prefix": "plus+", "delimiter": "+", "marker": "plus+sign/a", "max-keys": "1",
	}, nil, nil)
	var v1 struct {
		Prefix, Delimiter, Marker, NextMarker string
		IsTruncated                           bool
		Contents                              []struct{ Key string }
		CommonPrefixes                        []struct{ Prefix string }
	}
	if err := xml.Unmarshal(r.Body, &v1); err != nil {
		t.Fatalf("%d %s: %v", r.Status, r.Body, err)
	}
	if v1.Prefix != "plus%2B" || v1.Delimiter != "%2B" || v1.Marker != "plus%2Bsign/a" || len(v1.Contents) != 0 ||
		len(v1.CommonPrefixes) != 1 || v1.CommonPrefixes[0].Prefix != "plus%2Bsign/a%2B" {
		t.Errorf("V1 encoded: %s", r.Body)
	}

	// Without encoding-type, keys come back verbatim where XML 1.0 can carry
	// them (no EncodingType element, "+" and spaces as sent).
	out2, err := g.Client.ListObjectsV2(t.Context(), &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String("plus+sign/")})
	if err != nil {
		t.Fatal(err)
	}
	if out2.EncodingType != "" || len(out2.Contents) != 1 || aws.ToString(out2.Contents[0].Key) != "plus+sign/a+b" {
		t.Errorf("unencoded: %q %+v", out2.EncodingType, out2.Contents)
	}
	out3, err := g.Client.ListObjectsV2(t.Context(), &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String("dir with space/")})
	if err != nil || len(out3.Contents) != 1 || aws.ToString(out3.Contents[0].Key) != keys[0] {
		t.Errorf("unencoded space key: %v %+v", err, out3)
	}

	r = listRaw(t, g, "GET", "/"+bucket, map[string]string{"list-type": "2", "encoding-type": "base64"}, nil, nil)
	listWantRaw(t, "encoding-type=base64", r, 400, "InvalidArgument")
}

func TestListBadArguments(t *testing.T) {
	g := newTestGateway(t)
	bucket := listNewBucket(t, g)
	listPut(t, g, bucket, "a", "b", "c")
	for _, v := range []string{"-1", "abc", "1.5", "", "-99999999999999999999"} {
		for _, lt := range []string{"", "2"} {
			q := map[string]string{"max-keys": v}
			if lt != "" {
				q["list-type"] = lt
			}
			r := listRaw(t, g, "GET", "/"+bucket, q, nil, nil)
			listWantRaw(t, "max-keys="+v+" list-type="+lt, r, 400, "InvalidArgument")
		}
	}
	r := listRaw(t, g, "GET", "/"+bucket, map[string]string{"list-type": "3"}, nil, nil)
	listWantRaw(t, "list-type=3", r, 400, "InvalidArgument")

	// max-keys=0 is valid: an empty page.
	for _, lt := range []string{"", "2"} {
		q := map[string]string{"max-keys": "0"}
		if lt != "" {
			q["list-type"] = lt
		}
		r := listRaw(t, g, "GET", "/"+bucket, q, nil, nil)
		var doc struct {
			MaxKeys  int
			Contents []struct{ Key string }
		}
		if err := xml.Unmarshal(r.Body, &doc); r.Status != 200 || err != nil || doc.MaxKeys != 0 || len(doc.Contents) != 0 {
			t.Errorf("max-keys=0 list-type=%q: %d %s", lt, r.Status, r.Body)
		}
	}
	// A huge max-keys is capped, not rejected.
	r = listRaw(t, g, "GET", "/"+bucket, map[string]string{"list-type": "2", "max-keys": "99999999999"}, nil, nil)
	if r.Status != 200 || !strings.Contains(string(r.Body), "<MaxKeys>1000</MaxKeys>") {
		t.Errorf("huge max-keys: %d %s", r.Status, r.Body)
	}
	_, err := g.Client.ListObjectsV2(t.Context(), &s3.ListObjectsV2Input{Bucket: aws.String("no-such-bucket-here")})
	listWantErr(t, "missing bucket", err, "NoSuchBucket", 404)
}

func TestListContinuationTokenRejected(t *testing.T) {
	g := newTestGateway(t)
	bucket := listNewBucket(t, g)
	listPut(t, g, bucket, "p/a", "p/b", "p/c", "q/a", "q/b")
	out, err := g.Client.ListObjectsV2(t.Context(), &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String("p/"), MaxKeys: aws.Int32(1)})
	if err != nil {
		t.Fatal(err)
	}
	good := aws.ToString(out.NextContinuationToken)
	if good == "" || strings.Contains(good, "p/a") {
		t.Fatalf("token %q: empty or not opaque", good)
	}
	// The genuine token continues where it should.
	out, err = g.Client.ListObjectsV2(t.Context(), &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String("p/"), MaxKeys: aws.Int32(1), ContinuationToken: aws.String(good)})
	if err != nil || len(out.Contents) != 1 || aws.ToString(out.Contents[0].Key) != "p/b" || aws.ToString(out.ContinuationToken) != good {
		t.Fatalf("genuine token: %v %+v", err, out)
	}

	flip := []byte(good)
	flip[len(flip)/2] ^= 1
	forged := tokenEncode([]byte("not the gateway's key"), tokenScope{Bucket: bucket, Prefix: "p/"}, "p/a")
	bad := map[string]string{
		"garbage":        "garbage",
		"not base64":     "!!!***",
		"flipped bit":    string(flip),
		"truncated":      good[:len(good)-2],
		"padded":         good + "==",
		"plain key":      "p/a",
		"forged key":     forged,
		"huge":           strings.Repeat("A", 5000),
		"other version":  tokenEncoding.EncodeToString(append([]byte{2}, make([]byte, 20)...)),
		"nul":            "\x00",
		"standard b64":   strings.NewReplacer("-", "+", "_", "/").Replace(good) + "+/",
		"mac only":       tokenEncoding.EncodeToString(make([]byte, 17)),
		"trailing bytes": good + "AA",
	}
	for name, tok := range bad {
		r := listRaw(t, g, "GET", "/"+bucket, map[string]string{"list-type": "2", "prefix": "p/", "continuation-token": tok}, nil, nil)
		listWantRaw(t, "token "+name, r, 400, "InvalidArgument")
		if r.Status == 400 && !strings.Contains(string(r.Body), "The continuation token provided is incorrect") {
			t.Errorf("token %s: message %s", name, r.Body)
		}
	}
	// An empty token is no token: the listing starts at the beginning.
	r0 := listRaw(t, g, "GET", "/"+bucket, map[string]string{"list-type": "2", "prefix": "p/", "max-keys": "1", "continuation-token": ""}, nil, nil)
	if r0.Status != 200 || !strings.Contains(string(r0.Body), "<Key>p/a</Key>") {
		t.Errorf("empty token: %d %s", r0.Status, r0.Body)
	}
	// A token only continues the listing it came from.
	for name, q := range map[string]map[string]string{
		"other prefix":    {"prefix": "q/"},
		"other delimiter": {"prefix": "p/", "delimiter": "/"},
	} {
		q["list-type"], q["continuation-token"] = "2", good
		r := listRaw(t, g, "GET", "/"+bucket, q, nil, nil)
		listWantRaw(t, "token with "+name, r, 400, "InvalidArgument")
	}
	other := listNewBucket(t, g)
	r := listRaw(t, g, "GET", "/"+other, map[string]string{"list-type": "2", "prefix": "p/", "continuation-token": good}, nil, nil)
	listWantRaw(t, "token for another bucket", r, 400, "InvalidArgument")
}

func TestListMultipartUploadsPaging(t *testing.T) {
	g := newTestGateway(t)
	bucket := listNewBucket(t, g)
	type up struct{ key, id string }
	var all []up
	for _, k := range []string{"dir/a", "dir/a", "dir/a", "dir/b", "dir/sub/c", "dir/sub/d", "other/x", "top", "dir/a b+c"} {
		out, err := g.Client.CreateMultipartUpload(t.Context(), &s3.CreateMultipartUploadInput{Bucket: aws.String(bucket), Key: aws.String(k)})
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, up{k, aws.ToString(out.UploadId)})
	}
	listAll := func(prefix, delimiter string, max int32) ([]up, []string) {
		var ups []up
		var prefixes []string
		in := &s3.ListMultipartUploadsInput{Bucket: aws.String(bucket), Prefix: aws.String(prefix), MaxUploads: aws.Int32(max)}
		if delimiter != "" {
			in.Delimiter = aws.String(delimiter)
		}
		for i := 0; i < 100; i++ {
			out, err := g.Client.ListMultipartUploads(t.Context(), in)
			if err != nil {
				t.Fatal(err)
			}
			if n := len(out.Uploads) + len(out.CommonPrefixes); n > int(max) {
				t.Fatalf("page of %d entries with max-uploads %d", n, max)
			}
			for _, u := range out.Uploads {
				ups = append(ups, up{aws.ToString(u.Key), aws.ToString(u.UploadId)})
				if u.Initiated == nil || u.StorageClass != types.StorageClassStandard || u.Owner == nil || u.Initiator == nil {
					t.Errorf("upload fields: %+v", u)
				}
			}
			for _, p := range out.CommonPrefixes {
				prefixes = append(prefixes, aws.ToString(p.Prefix))
			}
			if !aws.ToBool(out.IsTruncated) {
				return ups, prefixes
			}
			in.KeyMarker, in.UploadIdMarker = out.NextKeyMarker, out.NextUploadIdMarker
		}
		t.Fatal("ListMultipartUploads does not end")
		return nil, nil
	}
	full, fullPrefixes := listAll("", "", 1000)
	if len(full) != len(all) || len(fullPrefixes) != 0 {
		t.Fatalf("full listing: %d uploads %q, want %d", len(full), fullPrefixes, len(all))
	}
	if !sort.SliceIsSorted(full, func(i, j int) bool { return full[i].key < full[j].key }) {
		t.Errorf("uploads not ordered by key: %v", full)
	}
	for _, max := range []int32{1, 2, 4} {
		got, _ := listAll("", "", max)
		if !reflect.DeepEqual(got, full) {
			t.Errorf("max-uploads %d: got %v, want %v", max, got, full)
		}
	}
	// S3A committers abort by prefix: every upload under it, paged.
	for _, max := range []int32{1, 1000} {
		got, prefixes := listAll("dir/", "/", max)
		var keys []string
		for _, u := range got {
			keys = append(keys, u.key)
		}
		if !reflect.DeepEqual(keys, []string{"dir/a", "dir/a", "dir/a", "dir/a b+c", "dir/b"}) || !reflect.DeepEqual(prefixes, []string{"dir/sub/"}) {
			t.Errorf("prefix dir/ delimiter / max %d: %q %q", max, keys, prefixes)
		}
		got, _ = listAll("dir/sub/", "", max)
		if len(got) != 2 {
			t.Errorf("prefix dir/sub/: %v", got)
		}
	}
	// key-marker alone skips every upload of that key; upload-id-marker
	// resumes within it.
	dirA := []up{}
	for _, u := range full {
		if u.key == "dir/a" {
			dirA = append(dirA, u)
		}
	}
	out, err := g.Client.ListMultipartUploads(t.Context(), &s3.ListMultipartUploadsInput{Bucket: aws.String(bucket), KeyMarker: aws.String("dir/a")})
	if err != nil || len(out.Uploads) == 0 || aws.ToString(out.Uploads[0].Key) != "dir/a b+c" {
		t.Errorf("key-marker dir/a: %v %+v", err, out)
	}
	out, err = g.Client.ListMultipartUploads(t.Context(), &s3.ListMultipartUploadsInput{Bucket: aws.String(bucket), KeyMarker: aws.String("dir/a"), UploadIdMarker: aws.String(dirA[0].id)})
	if err != nil || len(out.Uploads) < 2 || aws.ToString(out.Uploads[0].UploadId) != dirA[1].id || aws.ToString(out.Uploads[1].UploadId) != dirA[2].id {
		t.Errorf("upload-id-marker: %v %+v", err, out)
	}
	// encoding-type=url encodes keys.
	r := listRaw(t, g, "GET", "/"+bucket, map[string]string{"uploads": "", "prefix": "dir/a ", "encoding-type": "url"}, nil, nil)
	if r.Status != 200 || !strings.Contains(string(r.Body), "<Key>dir/a%20b%2Bc</Key>") || !strings.Contains(string(r.Body), "<Prefix>dir/a%20</Prefix>") {
		t.Errorf("encoded uploads: %d %s", r.Status, r.Body)
	}
	for _, v := range []string{"-1", "x"} {
		r := listRaw(t, g, "GET", "/"+bucket, map[string]string{"uploads": "", "max-uploads": v}, nil, nil)
		listWantRaw(t, "max-uploads="+v, r, 400, "InvalidArgument")
	}
	_ = strconv.Itoa
}
