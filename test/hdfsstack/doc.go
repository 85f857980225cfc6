// Package hdfsstack holds tests that prove the dev stack's Kerberized HDFS (deploy/dev/hdfs.sh)
// works from Go with github.com/colinmarc/hdfs/v2 and github.com/jcmturner/gokrb5/v8: keytab
// login, Kerberos RPC to the NameNode and SASL data-transfer protection to the DataNode.
//
// The tests read the stack's settings from the environment or from .dev/env (or .dev/env.d/*.env)
// in the repository root. They skip when the stack is not up, unless LAKEGATE_REQUIRE_DEV=1, in
// which case they fail.
package hdfsstack
