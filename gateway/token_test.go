package gateway

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// tokenFuzzKey is the key of the checked-in FuzzContinuationToken corpus:
// its valid-token seeds were made with it.
var tokenFuzzKey = []byte("lakegate-fuzz-token-key-0123456789")

var tokenFuzzScope = tokenScope{Bucket: "bucket", Prefix: "dir/", Delimiter: "/"}

func TestTokenRoundTrip(t *testing.T) {
	key := []byte("k1")
	scope := tokenScope{Bucket: "b", Prefix: "p/", Delimiter: "/"}
	for _, sa := range []string{"p/a", "p/sub/", "p/ü 日本+%", "p/\x00\x01", strings.Repeat("x", 1024), "p/" + strings.Repeat("é", 511)} {
		tok := tokenEncode(key, scope, sa)
		if strings.ContainsAny(tok, "+/=") || strings.Contains(tok, "p/") {
			t.Errorf("token %q is not opaque base64url", tok)
		}
		got, err := tokenDecode(key, scope, tok)
		if err != nil || got != sa {
			t.Errorf("round trip %q: %q %v", sa, got, err)
		}
		for name, other := range map[string]tokenScope{
			"bucket":    {Bucket: "c", Prefix: "p/", Delimiter: "/"},
			"prefix":    {Bucket: "b", Prefix: "p", Delimiter: "/"},
			"delimiter": {Bucket: "b", Prefix: "p/", Delimiter: ""},
			// Length prefixes keep field boundaries apart.
			"shifted": {Bucket: "b", Prefix: "p//", Delimiter: ""},
		} {
			if _, err := tokenDecode(key, other, tok); err == nil {
				t.Errorf("token for %q accepted with another %s", sa, name)
			}
		}
		if _, err := tokenDecode([]byte("k2"), scope, tok); err == nil {
			t.Errorf("token for %q accepted under another key", sa)
		}
	}
	if _, err := tokenDecode(key, scope, tokenEncode(key, scope, strings.Repeat("x", 1025))); err == nil {
		t.Error("token with a start-after key over 1024 bytes accepted")
	}
}

// FuzzContinuationToken feeds arbitrary strings to the continuation token
// decoder: it must never panic, accept only tokens it would issue itself
// (canonical encoding), and round-trip every start-after key it may issue.
func FuzzContinuationToken(f *testing.F) {
	f.Add(tokenEncode(tokenFuzzKey, tokenFuzzScope, "dir/a"), "dir/a")
	f.Add("", "")
	f.Add("AQ", "x")
	f.Fuzz(func(t *testing.T, token, startAfter string) {
		got, err := tokenDecode(tokenFuzzKey, tokenFuzzScope, token)
		if err == nil {
			if re := tokenEncode(tokenFuzzKey, tokenFuzzScope, got); re != token {
				t.Fatalf("accepted non-canonical token %q (canonical %q)", token, re)
			}
			if len(got) > tokenMaxStartAfter {
				t.Fatalf("accepted a %d-byte start-after key", len(got))
			}
		}
		if len(startAfter) > tokenMaxStartAfter {
			return
		}
		tok := tokenEncode(tokenFuzzKey, tokenFuzzScope, startAfter)
		if len(tok) > tokenMaxLen || !utf8.ValidString(tok) {
			t.Fatalf("token of %d bytes for a %d-byte key", len(tok), len(startAfter))
		}
		back, err := tokenDecode(tokenFuzzKey, tokenFuzzScope, tok)
		if err != nil || back != startAfter {
			t.Fatalf("round trip %q: %q %v", startAfter, back, err)
		}
		if _, err := tokenDecode(tokenFuzzKey, tokenScope{Bucket: "other"}, tok); err == nil {
			t.Fatalf("token for %q accepted in another scope", startAfter)
		}
	})
}
