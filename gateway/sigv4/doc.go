// Package sigv4 authenticates S3 requests signed with AWS Signature Version
// 4 and turns their bodies into verified payload streams.
//
// Verifier.Verify checks the Authorization header or the presigned query
// parameters of a request (canonical request, string to sign, derived
// signing key, clock skew, presigned expiry) and returns a Request whose
// Body decodes every payload mode S3 accepts: UNSIGNED-PAYLOAD, a signed
// hex SHA-256, and the aws-chunked modes STREAMING-AWS4-HMAC-SHA256-PAYLOAD,
// STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER and
// STREAMING-UNSIGNED-PAYLOAD-TRAILER, verifying chunk and trailer
// signatures, Content-MD5 and the x-amz-checksum-* values (CRC32, CRC32C,
// CRC64NVME, SHA1, SHA256) while it streams, and computing the MD5 that
// becomes the object's ETag.
//
// Sources: the Amazon S3 API Reference, "Authenticating Requests (AWS
// Signature Version 4)" and its pages "Signature Calculations for the
// Authorization Header: Transferring Payload in a Single Chunk",
// "... Transferring Payload in Multiple Chunks (Chunked Upload)",
// "Signature calculations for trailing headers (chunked uploads)" and
// "Authenticating Requests: Using Query Parameters"; the Amazon S3 User
// Guide, "Checking object integrity in Amazon S3". Error codes and messages
// follow what Amazon S3 answers.
package sigv4
