package gateway

import "github.com/lakegate/lakegate/gateway/s3err"

func (s *Server) listBuckets(rc *reqCtx) error       { return s3err.NotImplemented }
func (s *Server) createBucket(rc *reqCtx) error      { return s3err.NotImplemented }
func (s *Server) headBucket(rc *reqCtx) error        { return s3err.NotImplemented }
func (s *Server) deleteBucket(rc *reqCtx) error      { return s3err.NotImplemented }
func (s *Server) getBucketLocation(rc *reqCtx) error { return s3err.NotImplemented }
