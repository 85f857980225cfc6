package gateway

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
)

// TestCompleteObjectChecksumHeader: x-amz-checksum-sha256 on
// CompleteMultipartUpload is the object's composite checksum; a correct value
// (with or without the "-N" suffix) completes, a wrong one is BadDigest and
// leaves no object. (ceph/s3-tests found it was checked against the XML body.)
func TestCompleteObjectChecksumHeader(t *testing.T) {
	g := newTestGateway(t)
	ctx := context.Background()
	bucket := "complete-checksum"
	if _, err := g.Client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatal(err)
	}
	part := bytes.Repeat([]byte("A"), 1024)
	ps := sha256.Sum256(part)
	partSum := base64.StdEncoding.EncodeToString(ps[:])
	cs := sha256.Sum256(ps[:])
	composite := base64.StdEncoding.EncodeToString(cs[:])

	run := func(key, header string) error {
		up, err := g.Client.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String(bucket), Key: aws.String(key), ChecksumAlgorithm: types.ChecksumAlgorithmSha256})
		if err != nil {
			t.Fatal(err)
		}
		pr, err := g.Client.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String(bucket), Key: aws.String(key), UploadId: up.UploadId, PartNumber: aws.Int32(1), Body: bytes.NewReader(part), ChecksumAlgorithm: types.ChecksumAlgorithmSha256})
		if err != nil {
			t.Fatal(err)
		}
		if aws.ToString(pr.ChecksumSHA256) != partSum {
			t.Fatalf("part checksum %q, want %q", aws.ToString(pr.ChecksumSHA256), partSum)
		}
		_, err = g.Client.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{
			Bucket: aws.String(bucket), Key: aws.String(key), UploadId: up.UploadId, ChecksumSHA256: aws.String(header),
			MultipartUpload: &types.CompletedMultipartUpload{Parts: []types.CompletedPart{{PartNumber: aws.Int32(1), ETag: pr.ETag, ChecksumSHA256: pr.ChecksumSHA256}}},
		})
		return err
	}
	if err := run("with-suffix", composite+"-1"); err != nil {
		t.Fatalf("composite with -1: %v", err)
	}
	if err := run("without-suffix", composite); err != nil {
		t.Fatalf("composite without suffix: %v", err)
	}
	err := run("wrong", partSum)
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "BadDigest" {
		t.Fatalf("wrong object checksum: got %v, want BadDigest", err)
	}
	if _, err := g.Client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String("wrong")}); err == nil {
		t.Fatal("object visible after a BadDigest completion")
	}
}
