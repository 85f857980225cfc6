package gateway

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"sync"
)

// ListObjectsV2 continuation tokens are opaque to clients: the base64url
// (unpadded, strict) encoding of
//
//	version (1 byte) | MAC (16 bytes) | start-after key (0..1024 bytes)
//
// where MAC is HMAC-SHA256, truncated to 16 bytes, keyed by the gateway's
// token key, over a domain string and the length-prefixed bucket, prefix,
// delimiter and start-after key. A token therefore only continues the listing
// it was issued for (same bucket, prefix and delimiter), and a client cannot
// make one up. It carries no time: paging resumes after the key, so it stays
// valid while keys are added and removed, and survives the backend's restarts.
// Gateways behind one load balancer must share Config.ListTokenKey, otherwise
// a token is only valid at the process that issued it.

const (
	tokenVersion1 = 1
	tokenMACSize  = 16
	// tokenMaxStartAfter bounds the start-after key in a token: S3 keys are
	// at most 1024 bytes, and a common prefix is never longer than a key.
	tokenMaxStartAfter = 1024
	// tokenMaxLen bounds the encoded token a client may send, in bytes.
	tokenMaxLen = 2048
)

var tokenEncoding = base64.RawURLEncoding.Strict()

// errBadToken is returned by tokenDecode for any token it did not issue.
var errBadToken = errors.New("invalid continuation token")

var (
	tokenProcessKeyOnce sync.Once
	tokenProcessKey     []byte
)

// tokenKey returns the key authenticating continuation tokens: the configured
// ListTokenKey, or a random key made once per process.
func (s *Server) tokenKey() []byte {
	if len(s.cfg.ListTokenKey) > 0 {
		return s.cfg.ListTokenKey
	}
	tokenProcessKeyOnce.Do(func() {
		k := make([]byte, 32)
		if _, err := rand.Read(k); err != nil {
			panic("gateway: no randomness for the list token key: " + err.Error())
		}
		tokenProcessKey = k
	})
	return tokenProcessKey
}

// tokenScope is what a token is bound to besides its start-after key.
type tokenScope struct {
	Bucket, Prefix, Delimiter string
}

func tokenMAC(key []byte, scope tokenScope, startAfter string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("lakegate list continuation token v1\x00"))
	var n [binary.MaxVarintLen64]byte
	for _, f := range []string{scope.Bucket, scope.Prefix, scope.Delimiter, startAfter} {
		m.Write(n[:binary.PutUvarint(n[:], uint64(len(f)))])
		m.Write([]byte(f))
	}
	return m.Sum(nil)[:tokenMACSize]
}

// tokenEncode returns the continuation token that resumes the listing of
// scope after startAfter.
func tokenEncode(key []byte, scope tokenScope, startAfter string) string {
	raw := make([]byte, 0, 1+tokenMACSize+len(startAfter))
	raw = append(raw, tokenVersion1)
	raw = append(raw, tokenMAC(key, scope, startAfter)...)
	raw = append(raw, startAfter...)
	return tokenEncoding.EncodeToString(raw)
}

// tokenDecode returns the start-after key of a token made by tokenEncode with
// the same key and scope, or errBadToken.
func tokenDecode(key []byte, scope tokenScope, token string) (string, error) {
	if len(token) == 0 || len(token) > tokenMaxLen {
		return "", errBadToken
	}
	raw, err := tokenEncoding.DecodeString(token)
	if err != nil || len(raw) < 1+tokenMACSize || raw[0] != tokenVersion1 {
		return "", errBadToken
	}
	startAfter := string(raw[1+tokenMACSize:])
	if len(startAfter) > tokenMaxStartAfter {
		return "", errBadToken
	}
	if subtle.ConstantTimeCompare(raw[1:1+tokenMACSize], tokenMAC(key, scope, startAfter)) != 1 {
		return "", errBadToken
	}
	return startAfter, nil
}
