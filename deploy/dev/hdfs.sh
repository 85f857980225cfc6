#!/usr/bin/env bash
# deploy/dev/hdfs.sh up|down|status|stop-datanode|start-datanode|restart-namenode|dfs ARGS...
#
# A Kerberized single-node HDFS for the dev stack: a NameNode and a DataNode as separate JVMs from
# Hadoop jars resolved from Maven Central (deploy/dev/hadoop/pom.xml, cached under ~/.cache/lakegate), on
# loopback ports, in secure mode:
#   hadoop.security.authentication=kerberos, hadoop.security.authorization=true,
#   block access tokens, SASL data-transfer protection on a non-privileged DataNode port (no jsvc),
#   HTTPS-only web endpoints (self-signed localhost keystore), proxy-user rights for gateway.
# The KDC comes from deploy/dev/krb5.sh (started by `up` if needed). All state lives in .dev/hdfs/.
#
# up       format once, start NameNode and DataNode, wait until safe mode is off and the DataNode
#          is live, create /lakegate owned by gateway; writes .dev/env.d/hdfs.env,
#          .dev/backends.d/hdfs.yaml and the FsShell wrapper .dev/hdfs/bin/fsshell.
# down     stop the DataNode, then the NameNode (exactly the recorded PIDs: TERM, wait, KILL).
# status   show PIDs, ports and safe mode; exit 1 unless both daemons run.
# stop-datanode | start-datanode | restart-namenode    for fault tests.
# dfs ARGS run FsShell as gateway/localhost (same as $LAKEGATE_HDFS_CLI ARGS).
#
# Settings (environment, read by `up`; a change restarts running daemons). They are named apart
# from the exported results in hdfs.env, so sourcing .dev/env does not pin them:
#   LAKEGATE_DEV_HADOOP_VERSION                   Default: 3.4.3
#   LAKEGATE_DEV_HDFS_DATA_TRANSFER_PROTECTION    authentication|integrity|privacy. Default: authentication
#   LAKEGATE_DEV_HDFS_RPC_PROTECTION              authentication|integrity|privacy. Default: authentication
# colinmarc/hdfs v2.4.0 cannot read with integrity/privacy data-transfer protection (see
# deploy/dev/hadoop/VERIFIED.md); FsShell can.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
SRC=$ROOT/deploy/dev/hadoop
DEV=${LAKEGATE_DEV_DIR:-$ROOT/.dev}
H=$DEV/hdfs
K=$DEV/krb5
REALM=EXAMPLE.TEST
HADOOP_VERSION=${LAKEGATE_DEV_HADOOP_VERSION:-3.4.3}
CACHE_DIR=${LAKEGATE_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/lakegate}
DIST=$CACHE_DIR/hadoop-$HADOOP_VERSION
M2=$CACHE_DIR/m2
DTP=${LAKEGATE_DEV_HDFS_DATA_TRANSFER_PROTECTION:-authentication}
RPCP=${LAKEGATE_DEV_HDFS_RPC_PROTECTION:-authentication}

NN_RPC_PORT=19000
NN_HTTP_PORT=19870
NN_HTTPS_PORT=19871
DN_DATA_PORT=19866
DN_HTTP_PORT=19864
DN_HTTPS_PORT=19865
DN_IPC_PORT=19867

SERVICE_KEYTAB=$K/keytabs/hdfs-service.keytab
GATEWAY_KEYTAB=$K/keytabs/gateway.keytab
NN_CLASS=org.apache.hadoop.hdfs.server.namenode.NameNode
DN_CLASS=org.apache.hadoop.hdfs.server.datanode.DataNode
CP="$H/conf:$DIST/webapps-cp:$DIST/lib/*"

log() { printf 'hdfs: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

# ---- process bookkeeping ---------------------------------------------------------------------

# pid_alive ROLE: true if the PID recorded for ROLE runs and carries our -Dlakegate.dev marker
# (guards against acting on a recycled PID).
pid_alive() {
  local f=$H/run/$1.pid pid
  [ -s "$f" ] || return 1
  pid=$(cat "$f")
  [ -r "/proc/$pid/cmdline" ] || return 1
  # No `| grep -q` under pipefail: an early grep exit would make the pipeline fail (SIGPIPE).
  local args; args=$(tr '\0' '\n' <"/proc/$pid/cmdline" 2>/dev/null) || return 1
  [[ $'\n'$args$'\n' == *$'\n'"-Dlakegate.dev=$H/$1"$'\n'* ]]
}

# pid_gone PID: the process has exited (no longer in /proc, or a zombie). Its command line
# vanishes before its sockets are closed, so pid_alive alone does not mean the ports are free.
pid_gone() {
  [ -r "/proc/$1/stat" ] || return 0
  [ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" = Z ]
}

# stop_role ROLE: TERM the recorded PID, wait up to 30 s for it to exit, then KILL it.
stop_role() {
  local role=$1 f=$H/run/$1.pid pid i
  if ! pid_alive "$role"; then rm -f "$f"; return 0; fi
  pid=$(cat "$f")
  kill -TERM "$pid" 2>/dev/null || true
  for i in $(seq 1 300); do
    pid_gone "$pid" && { log "stopped $role (pid $pid)"; rm -f "$f"; return 0; }
    sleep 0.1
  done
  log "$role (pid $pid) ignored TERM for 30 s, sending KILL"
  kill -KILL "$pid" 2>/dev/null || true
  for i in $(seq 1 50); do pid_gone "$pid" && break; sleep 0.1; done
  rm -f "$f"
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# ---- prerequisites ---------------------------------------------------------------------------

# apt_install PKG...: Debian packages, with apt-get update only when the first attempt fails.
apt_install() {
  log "installing $* with apt-get"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -q --no-install-recommends "$@" >/dev/null ||
    { apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends "$@" >/dev/null; } ||
    die "apt-get install $* failed"
}

ensure_java() {
  JAVA=${LAKEGATE_JAVA:-java}
  if [ -z "${LAKEGATE_JAVA:-}" ] && ! command -v java >/dev/null; then apt_install openjdk-17-jdk-headless; fi
  command -v "$JAVA" >/dev/null || die "java not found (Java 17 is expected)"
  local v
  v=$("$JAVA" -XshowSettings:properties -version 2>&1 | awk -F' = ' '/java.specification.version/ {print $2}')
  [ "${v%%.*}" -ge 11 ] 2>/dev/null || die "java $v is too old; Hadoop $HADOOP_VERSION needs 11 or 17"
}

# ensure_jars: resolve Hadoop from Maven Central into ~/.cache/lakegate once (lib/ + webapps-cp/).
ensure_jars() {
  [ -f "$DIST/.complete" ] && return 0
  command -v mvn >/dev/null || apt_install maven
  log "resolving Hadoop $HADOOP_VERSION from Maven Central into $DIST"
  rm -rf "$DIST"
  mvn -B -q -f "$SRC/pom.xml" -Dmaven.repo.local="$M2" -Dhadoop.version="$HADOOP_VERSION" \
    -Dhadoop.dist="$DIST" generate-resources >&2
  [ -f "$DIST/lib/hadoop-hdfs-$HADOOP_VERSION.jar" ] || die "hadoop-hdfs jar missing after mvn"
  [ -d "$DIST/webapps-cp/webapps/hdfs" ] || die "webapps missing after mvn"
  touch "$DIST/.complete"
}

# ensure_tls: self-signed certificate for localhost/127.0.0.1 (HTTPS_ONLY web endpoints).
ensure_tls() {
  [ -s "$H/ssl/keystore.jks" ] && [ -s "$H/ssl/truststore.jks" ] && [ -s "$H/ssl/storepass" ] &&
    [ -s "$H/ssl/http-signature-secret" ] && return 0
  rm -rf "$H/ssl"; mkdir -p "$H/ssl"; chmod 700 "$H/ssl"
  head -c 18 /dev/urandom | base64 | tr -d '/+=' >"$H/ssl/storepass"
  local pw; pw=$(cat "$H/ssl/storepass")
  keytool -genkeypair -alias localhost -keyalg RSA -keysize 2048 -validity 3650 \
    -dname "CN=localhost, OU=lakegate dev" -ext "SAN=dns:localhost,ip:127.0.0.1" \
    -keystore "$H/ssl/keystore.jks" -storetype JKS -storepass "$pw" -keypass "$pw" 2>/dev/null
  keytool -exportcert -rfc -alias localhost -keystore "$H/ssl/keystore.jks" -storepass "$pw" \
    -file "$H/ssl/localhost.pem" 2>/dev/null
  keytool -importcert -noprompt -alias localhost -file "$H/ssl/localhost.pem" \
    -keystore "$H/ssl/truststore.jks" -storetype JKS -storepass "$pw" 2>/dev/null
  head -c 32 /dev/urandom | base64 >"$H/ssl/http-signature-secret"
}

# write_conf: fill the templates into .dev/hdfs/conf; CONF_CHANGED=1 if anything differs.
write_conf() {
  mkdir -p "$H/conf.new" "$H/logs" "$H/run" "$H/tmp" "$H/cc" "$H/bin"
  local f pw; pw=$(cat "$H/ssl/storepass")
  for f in core-site.xml hdfs-site.xml ssl-server.xml ssl-client.xml log4j.properties; do
    sed -e "s#@H@#$H#g" -e "s#@REALM@#$REALM#g" -e "s#@SERVICE_KEYTAB@#$SERVICE_KEYTAB#g" \
      -e "s#@STORE_PASS@#$pw#g" -e "s#@DATA_TRANSFER_PROTECTION@#$DTP#g" \
      -e "s#@RPC_PROTECTION@#$RPCP#g" -e "s#@NN_RPC_PORT@#$NN_RPC_PORT#g" \
      -e "s#@NN_HTTP_PORT@#$NN_HTTP_PORT#g" -e "s#@NN_HTTPS_PORT@#$NN_HTTPS_PORT#g" \
      -e "s#@DN_DATA_PORT@#$DN_DATA_PORT#g" -e "s#@DN_HTTP_PORT@#$DN_HTTP_PORT#g" \
      -e "s#@DN_HTTPS_PORT@#$DN_HTTPS_PORT#g" -e "s#@DN_IPC_PORT@#$DN_IPC_PORT#g" \
      "$SRC/$f.in" >"$H/conf.new/$f"
  done
  chmod 600 "$H/conf.new/ssl-server.xml" "$H/conf.new/ssl-client.xml"
  # JVMs read krb5.conf once at start: a change there also counts as a configuration change.
  sha256sum "$K/krb5.conf" >"$H/conf.new/.krb5.conf.sha256"
  CONF_CHANGED=0
  if [ -d "$H/conf" ] && ! diff -rq "$H/conf" "$H/conf.new" >/dev/null 2>&1; then CONF_CHANGED=1; fi
  rm -rf "$H/conf"; mv "$H/conf.new" "$H/conf"
}

# ---- Java launchers --------------------------------------------------------------------------

# jvm_opts ROLE HEAP: options shared by daemons and clients. On Java 17 WebHDFS fails without
# --add-opens=java.base/java.lang (JAXB in Jersey's WADL: InaccessibleObjectException, HTTP 500);
# the rest mirror what Hadoop's own launcher adds (HADOOP-19310) and are harmless otherwise.
jvm_opts() {
  printf '%s\n' "-Dlakegate.dev=$H/$1" "-Xms64m" "-Xmx$2" "-XX:+UseSerialGC" \
    "-Djava.net.preferIPv4Stack=true" "-Djava.security.krb5.conf=$K/krb5.conf" \
    "-Dhadoop.home.dir=$DIST" "-Dhadoop.log.dir=$H/logs" "-Dhadoop.id.str=hdfs"
  printf '%s\n' "--add-opens=java.base/java.lang=ALL-UNNAMED" "--add-opens=java.base/java.nio=ALL-UNNAMED" \
    "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED" "--add-opens=java.base/java.util=ALL-UNNAMED" \
    "--add-opens=java.base/java.util.concurrent=ALL-UNNAMED" "--add-opens=java.base/java.net=ALL-UNNAMED" \
    "--add-exports=java.base/sun.net.dns=ALL-UNNAMED" "--add-exports=java.base/sun.net.util=ALL-UNNAMED" \
    "--add-exports=java.security.jgss/sun.security.krb5=ALL-UNNAMED"
}

# start_role ROLE CLASS HEAP [ARGS]: start a daemon in its own session; record its PID.
start_role() {
  local role=$1 class=$2 heap=$3; shift 3
  pid_alive "$role" && return 0
  local opts; mapfile -t opts < <(jvm_opts "$role" "$heap")
  printf '\n==== %s start %s\n' "$role" "$(date -Is)" >>"$H/logs/$role.log"
  # 9>&-: the daemon must not inherit the lock held by this script (see take_lock).
  KRB5_CONFIG=$K/krb5.conf KRB5CCNAME=FILE:$H/cc/$role.unused \
    setsid "$JAVA" "${opts[@]}" -cp "$CP" "$class" "$@" </dev/null >>"$H/logs/$role.log" 2>&1 9>&- &
  local pid=$! i
  echo "$pid" >"$H/run/$role.pid"
  # Until the background child execs, its command line is this script's and pid_alive says no:
  # wait for the exec (or the exit) so later checks do not call a starting daemon dead.
  for i in $(seq 1 100); do
    pid_alive "$role" && break
    pid_gone "$pid" && die "$role exited at start; see $H/logs/$role.log"
    sleep 0.1
  done
  log "started $role (pid $pid, log $H/logs/$role.log)"
}

# ---- readiness -------------------------------------------------------------------------------

# hdfs_ticket: a ticket cache for the superuser hdfs/localhost (curl --negotiate, WebHDFS).
hdfs_ticket() {
  export KRB5_CONFIG=$K/krb5.conf KRB5CCNAME=FILE:$H/cc/hdfs-admin
  klist -s 2>/dev/null || kinit -kt "$SERVICE_KEYTAB" "hdfs/localhost@$REALM"
}

nn_https() {
  curl -sS --fail --max-time 20 --cacert "$H/ssl/localhost.pem" --negotiate -u : "$@"
}

# nn_state: "<safemode text or ->|<usable live DataNodes>" from the NameNode's /jmx servlet; fails if
# the NameNode does not answer yet.
nn_state() {
  local json
  json=$(nn_https "https://localhost:$NN_HTTPS_PORT/jmx?qry=Hadoop:service=NameNode,name=*" 2>/dev/null) || return 1
  printf '%s' "$json" | python3 -c '
import json, sys
beans = {b.get("name"): b for b in json.load(sys.stdin)["beans"]}
info = beans["Hadoop:service=NameNode,name=NameNodeInfo"]
state = beans["Hadoop:service=NameNode,name=FSNamesystemState"]
# A DataNode counts once the NameNode can place blocks on it: registered, storage reported
# (after a NameNode restart, "live" comes a heartbeat before the capacity), nothing stale.
live = state["NumLiveDataNodes"]
if state["CapacityRemaining"] <= 0 or state["NumStaleStorages"] > 0 or state["NumStaleDataNodes"] > 0:
    live = 0
print("%s|%d" % (info["Safemode"] or "-", live))' 2>/dev/null
}

# wait_ready SECONDS: NameNode out of safe mode with at least one live DataNode.
wait_ready() {
  local deadline=$((SECONDS + $1)) st=""
  hdfs_ticket
  while [ $SECONDS -lt $deadline ]; do
    pid_alive namenode || die "namenode exited; see $H/logs/namenode.log"
    pid_alive datanode || die "datanode exited; see $H/logs/datanode.log"
    if port_open "$NN_HTTPS_PORT" && st=$(nn_state); then
      [ "${st%%|*}" = - ] && [ "${st##*|}" -ge 1 ] && return 0
    fi
    sleep 0.5
  done
  die "HDFS not ready after $1 s (safe mode|live DataNodes: '$st'); see $H/logs/"
}

# wait_datanode_registered SECONDS: the DataNode's block-pool actor reports RUNNING to the NameNode.
wait_datanode_registered() {
  local deadline=$((SECONDS + $1))
  while [ $SECONDS -lt $deadline ]; do
    pid_alive datanode || die "datanode exited; see $H/logs/datanode.log"
    local info
    info=$(nn_https "https://localhost:$DN_HTTPS_PORT/jmx?qry=Hadoop:service=DataNode,name=DataNodeInfo" 2>/dev/null) || info=""
    [[ $info =~ ActorState[^,]*RUNNING ]] && return 0
    sleep 0.5
  done
  die "datanode not registered after $1 s; see $H/logs/datanode.log"
}

# ensure_root: /lakegate owned by gateway, via WebHDFS as the superuser (no JVM start). The
# first WebHDFS request initialises Jersey in the NameNode (about 1 s idle, 10 s and more on a
# busy machine), hence the long timeout.
ensure_root() {
  hdfs_ticket
  local base="https://localhost:$NN_HTTPS_PORT/webhdfs/v1/lakegate"
  nn_https --max-time 120 -X PUT "$base?op=MKDIRS&permission=755" >/dev/null
  nn_https -X PUT "$base?op=SETOWNER&owner=gateway&group=gateway" >/dev/null
  local st; st=$(nn_https "$base?op=GETFILESTATUS")
  case $st in *'"owner":"gateway"'*) ;; *) die "/lakegate is not owned by gateway: $st" ;; esac
}

# ---- outputs ---------------------------------------------------------------------------------

write_cli() {
  cat >"$H/bin/fsshell.new" <<EOF
#!/usr/bin/env bash
# generated by deploy/dev/hdfs.sh: Hadoop $HADOOP_VERSION FsShell (hdfs dfs) as a Kerberos client.
# Identity: HDFS_CLI_PRINCIPAL + HDFS_CLI_KEYTAB (default gateway/localhost@$REALM from its keytab,
# logged in with kinit into a private ticket cache); HDFS_CLI_KEYTAB=none uses \$KRB5CCNAME as is.
# Examples: fsshell -put - /lakegate/x <file;  fsshell -cat /lakegate/x;  fsshell -ls -R /lakegate
set -euo pipefail
export KRB5_CONFIG=$K/krb5.conf
principal=\${HDFS_CLI_PRINCIPAL:-gateway/localhost@$REALM}
keytab=\${HDFS_CLI_KEYTAB:-$GATEWAY_KEYTAB}
if [ "\$keytab" != none ]; then
  cc=\$(mktemp "$H/cc/fsshell.XXXXXX")
  trap 'rm -f "\$cc"' EXIT
  export KRB5CCNAME=FILE:\$cc
  kinit -kt "\$keytab" "\$principal"
fi
rc=0
"$JAVA" $(jvm_opts cli 1g | grep -v '^-Dlakegate.dev=' | tr '\n' ' ')-Dhadoop.root.logger=WARN,console \\
  -cp "$CP" org.apache.hadoop.fs.FsShell "\$@" || rc=\$?
exit \$rc
EOF
  chmod 755 "$H/bin/fsshell.new"; mv "$H/bin/fsshell.new" "$H/bin/fsshell"
}

write_env() {
  mkdir -p "$DEV/env.d" "$DEV/backends.d"
  cat >"$DEV/env.d/hdfs.env.new" <<EOF
# generated by deploy/dev/hdfs.sh (Hadoop $HADOOP_VERSION, secure mode)
export HDFS_NAMENODE=localhost:$NN_RPC_PORT
export HDFS_NAMENODE_HTTPS=https://localhost:$NN_HTTPS_PORT
export HDFS_CA_CERT=$H/ssl/localhost.pem
export KRB5_CONFIG=$K/krb5.conf
# HDFS_PRINCIPAL/HDFS_KEYTAB: the HDFS superuser (daemon identity), for admin operations only.
export HDFS_PRINCIPAL=hdfs/localhost@$REALM
export HDFS_KEYTAB=$SERVICE_KEYTAB
export HDFS_SERVICE_PRINCIPAL=hdfs/localhost
# LAKEGATE_HDFS_*: what lakegate's hdfs backend uses (the gateway principal, a proxy user).
export LAKEGATE_HDFS_PRINCIPAL=gateway/localhost@$REALM
export LAKEGATE_HDFS_KEYTAB=$GATEWAY_KEYTAB
export LAKEGATE_HDFS_SPN=hdfs/localhost
export LAKEGATE_HDFS_ROOT=/lakegate
export LAKEGATE_HDFS_DATA_TRANSFER_PROTECTION=$DTP
export LAKEGATE_HDFS_RPC_PROTECTION=$RPCP
export LAKEGATE_HDFS_HADOOP_VERSION=$HADOOP_VERSION
export HADOOP_CONF_DIR=$H/conf
export HADOOP_CLASSPATH='$CP'
# FsShell as gateway/localhost (keytab login); see the header of the script for other identities.
export LAKEGATE_HDFS_CLI=$H/bin/fsshell
EOF
  mv "$DEV/env.d/hdfs.env.new" "$DEV/env.d/hdfs.env"
  cat >"$DEV/backends.d/hdfs.yaml.new" <<EOF
# generated by deploy/dev/hdfs.sh
- name: hdfs
  type: hdfs
  namenodes: ["localhost:$NN_RPC_PORT"]
  root: /lakegate
  kerberos:
    principal: gateway/localhost@$REALM
    keytab: $GATEWAY_KEYTAB
    krb5_conf: $K/krb5.conf
    service_principal: hdfs/localhost
  data_transfer_protection: $DTP
  pool_size: 8
EOF
  mv "$DEV/backends.d/hdfs.yaml.new" "$DEV/backends.d/hdfs.yaml"
}

# ---- commands --------------------------------------------------------------------------------

# wait_port_free ROLE PORT: unless ROLE already runs, PORT must be free. A daemon that just
# exited can leave its listener open for a moment, so wait up to 20 s before giving up.
wait_port_free() {
  local i
  pid_alive "$1" && return 0
  for i in $(seq 1 200); do
    port_open "$2" || return 0
    sleep 0.1
  done
  die "port $2 is in use by a process this script did not start"
}

start_namenode() {
  wait_port_free namenode "$NN_RPC_PORT"
  start_role namenode "$NN_CLASS" 512m
}

start_datanode() {
  wait_port_free datanode "$DN_DATA_PORT"
  start_role datanode "$DN_CLASS" 384m
}

format_once() {
  [ -f "$H/name/current/VERSION" ] && return 0
  log "formatting the NameNode (first start)"
  rm -rf "$H/name" "$H/data" "$H/tmp"; mkdir -p "$H/tmp"
  local opts; mapfile -t opts < <(jvm_opts format 512m)
  KRB5_CONFIG=$K/krb5.conf "$JAVA" "${opts[@]}" -cp "$CP" "$NN_CLASS" -format -nonInteractive \
    >>"$H/logs/format.log" 2>&1 || die "format failed; see $H/logs/format.log"
}

cmd_up() {
  local t0=$SECONDS
  # Start the KDC if needed; a running one keeps its settings (e.g. a short ticket lifetime).
  "$ROOT/deploy/dev/krb5.sh" status >/dev/null 2>&1 || "$ROOT/deploy/dev/krb5.sh" up
  [ -s "$SERVICE_KEYTAB" ] || die "no $SERVICE_KEYTAB; run deploy/dev/krb5.sh up"
  ensure_java
  ensure_jars
  mkdir -p "$H"; chmod 700 "$H"
  ensure_tls
  write_conf
  if [ "$CONF_CHANGED" = 1 ] && { pid_alive namenode || pid_alive datanode; }; then
    log "configuration changed: restarting the daemons"
    stop_role datanode; stop_role namenode
  fi
  format_once
  start_namenode
  start_datanode
  wait_ready 120
  ensure_root
  write_cli
  write_env
  log "up: NameNode localhost:$NN_RPC_PORT, DataNode 127.0.0.1:$DN_DATA_PORT, data transfer $DTP, rpc $RPCP ($((SECONDS - t0)) s)"
}

cmd_down() {
  stop_role datanode
  stop_role namenode
}

cmd_status() {
  local rc=0 r
  for r in namenode datanode; do
    if pid_alive "$r"; then echo "$r: running (pid $(cat "$H/run/$r.pid"))"; else echo "$r: stopped"; rc=1; fi
  done
  if pid_alive namenode && port_open "$NN_HTTPS_PORT"; then
    hdfs_ticket >/dev/null 2>&1 || true
    echo "namenode state (safe mode|live DataNodes): $(nn_state || echo unknown)"
  fi
  return $rc
}

# take_lock: serialise commands that start or stop daemons (tests may call this script from
# several goroutines or processes at once).
take_lock() {
  mkdir -p "$H"
  exec 9>"$H/.lock"
  flock -w 600 9 || die "another deploy/dev/hdfs.sh held $H/.lock for 10 minutes"
}

need_setup() {
  [ -d "$H/conf" ] || die "not set up; run $0 up first"
  ensure_java
}

case "${1:-}" in
  up) take_lock; cmd_up ;;
  down) take_lock; cmd_down ;;
  status) cmd_status ;;
  stop-datanode) take_lock; stop_role datanode ;;
  start-datanode)
    take_lock; need_setup; start_datanode; wait_datanode_registered 90; wait_ready 90 ;;
  restart-namenode)
    take_lock; need_setup; stop_role namenode; start_namenode; wait_ready 120 ;;
  dfs) shift; exec "$H/bin/fsshell" "$@" ;;
  *) echo "usage: $0 up|down|status|stop-datanode|start-datanode|restart-namenode|dfs ARGS..." >&2; exit 2 ;;
esac
