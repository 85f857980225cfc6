package gateway

import "github.com/lakegate/lakegate/gateway/s3err"

func (s *Server) createMultipartUpload(rc *reqCtx) error   { return s3err.NotImplemented }
func (s *Server) uploadPartCopyOrPart(rc *reqCtx) error    { return s3err.NotImplemented }
func (s *Server) completeMultipartUpload(rc *reqCtx) error { return s3err.NotImplemented }
func (s *Server) abortMultipartUpload(rc *reqCtx) error    { return s3err.NotImplemented }
func (s *Server) listParts(rc *reqCtx) error               { return s3err.NotImplemented }
