package gateway

import "github.com/lakegate/lakegate/gateway/s3err"

func (s *Server) listObjects(rc *reqCtx) error          { return s3err.NotImplemented }
func (s *Server) listObjectsV2(rc *reqCtx) error        { return s3err.NotImplemented }
func (s *Server) listMultipartUploads(rc *reqCtx) error { return s3err.NotImplemented }
