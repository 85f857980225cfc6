package hdfs

import (
	"errors"
	"fmt"
	"os"
	"path"
	"strings"
	"time"
)

// Config is the hdfs backend's configuration: every key of a backends entry
// with type hdfs except name and type.
type Config struct {
	// Namenodes are the NameNode RPC addresses (host:port). Several
	// addresses form an HA pair (or more): the client moves to the next one
	// on a connection failure or a StandbyException. Use the host name the
	// NameNode's Kerberos principal names (localhost, not 127.0.0.1) when
	// ServicePrincipal contains _HOST. Required.
	Namenodes []string `yaml:"namenodes"`
	// Root is the absolute HDFS directory holding the buckets (one
	// directory per bucket) and the gateway-private staging area
	// <root>/.lakegate. It must lie in a single encryption zone (or none),
	// because objects are renamed from the staging area into buckets.
	// Default: /lakegate.
	Root string `yaml:"root"`
	// Kerberos configures keytab login. Leave Principal empty for a cluster
	// with simple authentication (then User applies).
	Kerberos KerberosConfig `yaml:"kerberos"`
	// DataTransferProtection is the minimum SASL protection on DataNode
	// connections: "" (none, or whatever the cluster's
	// dfs.encrypt.data.transfer demands) or "authentication"; it must match
	// the cluster's dfs.data.transfer.protection. "integrity" and "privacy"
	// are refused by New with a configuration error: colinmarc/hdfs v2.4.0
	// loses bytes when a read spans two SASL frames with integrity or
	// privacy (digestMD5IntegrityConn.Read and digestMD5PrivacyConn.Read
	// return only the second part's count), so reads would fail or return
	// corrupt data against such clusters. Default: "".
	//
	// There is no rpc_protection key: colinmarc/hdfs always takes the
	// highest QOP the NameNode offers (hadoop.rpc.protection) and cannot be
	// told otherwise.
	DataTransferProtection string `yaml:"data_transfer_protection"`
	// PoolSize bounds the number of NameNode client connections (and with
	// them, of requests served at once; a streaming GET or PUT holds one
	// client for its whole duration). Default: 8.
	PoolSize int `yaml:"pool_size"`
	// User is the HDFS user name on a cluster without Kerberos. Ignored
	// with Kerberos (the principal's short name is used). Default: the
	// operating-system user running lakegate.
	User string `yaml:"user"`
	// DialTimeout bounds connecting to a NameNode or DataNode. Default: 10s.
	DialTimeout time.Duration `yaml:"dial_timeout"`
	// IOTimeout bounds every single read or write on a NameNode or DataNode
	// connection (a NameNode call, a packet to a DataNode): a hung server
	// fails the request instead of blocking it forever. Default: 60s.
	IOTimeout time.Duration `yaml:"io_timeout"`
	// ClientMaxAge closes a pooled client once it is older than this when
	// it is returned, so connections are re-established (and
	// re-authenticated with a current Kerberos ticket) periodically.
	// Default: 1h.
	ClientMaxAge time.Duration `yaml:"client_max_age"`
	// UseDatanodeHostname connects to DataNodes by host name instead of IP
	// address (dfs.client.use.datanode.hostname). Default: false.
	UseDatanodeHostname bool `yaml:"use_datanode_hostname"`
	// MaxComponentLength is the NameNode's
	// dfs.namenode.fs-limits.max-component-length in bytes: a key with a
	// longer path segment is refused with ErrInvalidObjectName before any
	// data is sent. 0 means no limit. Default: 255 (HDFS's default).
	MaxComponentLength *int `yaml:"max_component_length"`
	// StagingMaxAge is the age after which a temporary file left in
	// <root>/.lakegate/tmp by a crashed process is removed by the
	// janitor. Default: 24h.
	StagingMaxAge time.Duration `yaml:"staging_max_age"`
}

// KerberosConfig configures keytab login to a Kerberized HDFS.
type KerberosConfig struct {
	// Principal is the gateway's principal, e.g.
	// gateway/localhost@EXAMPLE.TEST; without "@REALM" the default realm of
	// Krb5Conf applies. Empty disables Kerberos. Default: "".
	Principal string `yaml:"principal"`
	// Keytab is the path of the keytab holding Principal's keys. Required
	// with Principal.
	Keytab string `yaml:"keytab"`
	// Krb5Conf is the path of the krb5.conf naming the realm's KDCs.
	// Default: $KRB5_CONFIG, else /etc/krb5.conf.
	Krb5Conf string `yaml:"krb5_conf"`
	// ServicePrincipal is the NameNode's principal without realm
	// (dfs.namenode.kerberos.principal), e.g. hdfs/localhost or nn/_HOST;
	// _HOST is replaced by the host part of the NameNode address dialled.
	// Default: hdfs/_HOST.
	ServicePrincipal string `yaml:"service_principal"`

	// ticketLifetime, when set (tests only), replaces krb5.conf's
	// ticket_lifetime in the ticket requests, to see tickets expire.
	ticketLifetime time.Duration
}

// Defaults of Config.
const (
	DefaultRoot          = "/lakegate"
	DefaultPoolSize      = 8
	DefaultDialTimeout   = 10 * time.Second
	DefaultIOTimeout     = 60 * time.Second
	DefaultClientMaxAge  = time.Hour
	DefaultStagingMaxAge = 24 * time.Hour
	// DefaultMaxComponentLength is HDFS's default
	// dfs.namenode.fs-limits.max-component-length in bytes.
	DefaultMaxComponentLength = 255
	// DefaultServicePrincipal is the NameNode principal used when
	// KerberosConfig.ServicePrincipal is empty.
	DefaultServicePrincipal = "hdfs/_HOST"
)

// errConfig marks configuration errors.
var errConfig = errors.New("hdfs config")

// withDefaults returns c with defaults applied, or an error naming the first
// invalid key.
func (c Config) withDefaults() (Config, error) {
	if len(c.Namenodes) == 0 {
		return c, fmt.Errorf("%w: namenodes is required", errConfig)
	}
	for _, a := range c.Namenodes {
		if !strings.Contains(a, ":") {
			return c, fmt.Errorf("%w: namenode address %q lacks a port", errConfig, a)
		}
	}
	if c.Root == "" {
		c.Root = DefaultRoot
	}
	if !strings.HasPrefix(c.Root, "/") {
		return c, fmt.Errorf("%w: root %q is not an absolute path", errConfig, c.Root)
	}
	c.Root = path.Clean(c.Root)
	switch c.DataTransferProtection {
	case "", "authentication":
	case "integrity", "privacy":
		return c, fmt.Errorf("%w: data_transfer_protection %q is not supported: the HDFS client library (colinmarc/hdfs v2.4.0) corrupts reads that span two SASL frames under integrity or privacy protection; configure the cluster's dfs.data.transfer.protection as authentication (or use \"\" without SASL)", errConfig, c.DataTransferProtection)
	default:
		return c, fmt.Errorf("%w: data_transfer_protection %q (want \"\" or authentication)", errConfig, c.DataTransferProtection)
	}
	if c.PoolSize == 0 {
		c.PoolSize = DefaultPoolSize
	}
	if c.PoolSize < 1 {
		return c, fmt.Errorf("%w: pool_size %d is below 1", errConfig, c.PoolSize)
	}
	if c.DialTimeout <= 0 {
		c.DialTimeout = DefaultDialTimeout
	}
	if c.IOTimeout <= 0 {
		c.IOTimeout = DefaultIOTimeout
	}
	if c.ClientMaxAge <= 0 {
		c.ClientMaxAge = DefaultClientMaxAge
	}
	if c.StagingMaxAge <= 0 {
		c.StagingMaxAge = DefaultStagingMaxAge
	}
	if c.MaxComponentLength == nil {
		n := DefaultMaxComponentLength
		c.MaxComponentLength = &n
	}
	k := &c.Kerberos
	if k.Principal != "" {
		if k.Keytab == "" {
			return c, fmt.Errorf("%w: kerberos.keytab is required with kerberos.principal", errConfig)
		}
		if k.Krb5Conf == "" {
			k.Krb5Conf = os.Getenv("KRB5_CONFIG")
		}
		if k.Krb5Conf == "" {
			k.Krb5Conf = "/etc/krb5.conf"
		}
		if k.ServicePrincipal == "" {
			k.ServicePrincipal = DefaultServicePrincipal
		}
		// The realm is resolved from krb5.conf [domain_realm]; colinmarc
		// wants the bare <service>/<host>.
		k.ServicePrincipal, _, _ = strings.Cut(k.ServicePrincipal, "@")
	} else if c.User == "" {
		c.User = currentUser()
	}
	return c, nil
}

// currentUser returns the operating-system user name, or "lakegate".
func currentUser() string {
	for _, v := range []string{"HADOOP_USER_NAME", "USER", "LOGNAME"} {
		if u := os.Getenv(v); u != "" {
			return u
		}
	}
	return "lakegate"
}
