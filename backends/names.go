package backends

import (
	"net"
	"strings"
)

// ValidBucketName reports whether name follows the Amazon S3 naming rules for general purpose
// buckets (Amazon S3 User Guide, "Bucket naming rules"): 3 to 63 characters of
// lower-case letters, digits, '.' and '-', beginning and ending with a letter
// or digit, no "..", no label beginning or ending with '-' (".-", "-."), not
// an IPv4 address, and none of the reserved prefixes and suffixes.
func ValidBucketName(name string) bool {
	if len(name) < 3 || len(name) > 63 {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
		case c == '.' || c == '-':
			if i == 0 || i == len(name)-1 {
				return false
			}
		default:
			return false
		}
	}
	// ".-" and "-." make a DNS label begin or end with a hyphen, so such a
	// bucket could not be addressed virtual-host style (the older S3 rules
	// said so: each label begins and ends with a letter or digit).
	if strings.Contains(name, "..") || strings.Contains(name, ".-") || strings.Contains(name, "-.") {
		return false
	}
	if ip := net.ParseIP(name); ip != nil && ip.To4() != nil {
		return false
	}
	for _, p := range []string{"xn--", "sthree-", "amzn-s3-demo-"} {
		if strings.HasPrefix(name, p) {
			return false
		}
	}
	for _, sfx := range []string{"-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"} {
		if strings.HasSuffix(name, sfx) {
			return false
		}
	}
	return true
}
