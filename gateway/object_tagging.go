package gateway

import (
	"encoding/xml"
	"net/http"
	"sort"

	"github.com/lakegate/lakegate/backends"
	"github.com/lakegate/lakegate/gateway/s3err"
)

// taggingRequest is the body of PutObjectTagging.
type taggingRequest struct {
	XMLName xml.Name `xml:"Tagging"`
	TagSet  *struct {
		Tags []tagXML `xml:"Tag"`
	} `xml:"TagSet"`
}

type tagXML struct {
	Key   string `xml:"Key"`
	Value string `xml:"Value"`
}

// taggingResult is the body of GetObjectTagging.
type taggingResult struct {
	XMLName xml.Name `xml:"Tagging"`
	Xmlns   string   `xml:"xmlns,attr"`
	TagSet  []tagXML `xml:"TagSet>Tag"`
}

// parseTagging decodes a Tagging document into a tag set and applies S3's
// limits (validateTags). Errors: MalformedXML (including a missing TagSet),
// InvalidTag (duplicate keys, limits).
func parseTagging(data []byte) (map[string]string, error) {
	if len(data) == 0 {
		return nil, s3err.MalformedXML.With("the request body is empty")
	}
	var t taggingRequest
	if err := xml.Unmarshal(data, &t); err != nil || t.TagSet == nil {
		return nil, s3err.MalformedXML
	}
	tags := make(map[string]string, len(t.TagSet.Tags))
	for _, tag := range t.TagSet.Tags {
		if _, dup := tags[tag.Key]; dup {
			return nil, s3err.InvalidTag.With("Cannot provide multiple Tags with the same key")
		}
		tags[tag.Key] = tag.Value
	}
	if err := validateTags(tags); err != nil {
		return nil, err
	}
	return tags, nil
}

// getObjectTagging answers the object's tag set, sorted by key. See the
// Amazon S3 API Reference, GetObjectTagging.
func (s *Server) getObjectTagging(rc *reqCtx) error {
	info, err := rc.backend.Stat(rc.ctx, rc.bucket, rc.key)
	if err != nil {
		return err
	}
	res := taggingResult{Xmlns: s3XMLNS, TagSet: []tagXML{}}
	for k, v := range info.Metadata.Tags {
		res.TagSet = append(res.TagSet, tagXML{Key: k, Value: v})
	}
	sort.Slice(res.TagSet, func(i, j int) bool { return res.TagSet[i].Key < res.TagSet[j].Key })
	return writeXML(rc, http.StatusOK, res)
}

// putObjectTagging replaces the object's tag set (at most 10 tags). Backends
// without backends.Tagger answer NotImplemented. Content-MD5 is verified when
// sent but, unlike S3, not required. See the Amazon S3 API Reference,
// PutObjectTagging.
func (s *Server) putObjectTagging(rc *reqCtx) error {
	tg, ok := rc.backend.(backends.Tagger)
	if !ok {
		return s3err.NotImplemented.With("backend " + rc.backendName + " cannot change tags")
	}
	data, err := readXMLBody(rc)
	if err != nil {
		return err
	}
	tags, err := parseTagging(data)
	if err != nil {
		return err
	}
	if err := tg.PutObjectTagging(rc.ctx, rc.bucket, rc.key, tags); err != nil {
		return err
	}
	rc.w.Header().Set("Content-Length", "0")
	rc.w.WriteHeader(http.StatusOK)
	return nil
}

// deleteObjectTagging removes every tag of the object and answers 204. See
// the Amazon S3 API Reference, DeleteObjectTagging.
func (s *Server) deleteObjectTagging(rc *reqCtx) error {
	tg, ok := rc.backend.(backends.Tagger)
	if !ok {
		return s3err.NotImplemented.With("backend " + rc.backendName + " cannot change tags")
	}
	if err := tg.PutObjectTagging(rc.ctx, rc.bucket, rc.key, map[string]string{}); err != nil {
		return err
	}
	rc.w.WriteHeader(http.StatusNoContent)
	return nil
}
