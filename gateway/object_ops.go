package gateway

import "github.com/lakegate/lakegate/gateway/s3err"

func (s *Server) putOrCopyObject(rc *reqCtx) error     { return s3err.NotImplemented }
func (s *Server) getObject(rc *reqCtx) error           { return s3err.NotImplemented }
func (s *Server) headObject(rc *reqCtx) error          { return s3err.NotImplemented }
func (s *Server) deleteObject(rc *reqCtx) error        { return s3err.NotImplemented }
func (s *Server) deleteObjects(rc *reqCtx) error       { return s3err.NotImplemented }
func (s *Server) getObjectTagging(rc *reqCtx) error    { return s3err.NotImplemented }
func (s *Server) putObjectTagging(rc *reqCtx) error    { return s3err.NotImplemented }
func (s *Server) deleteObjectTagging(rc *reqCtx) error { return s3err.NotImplemented }
