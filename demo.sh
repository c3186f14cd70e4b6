#!/usr/bin/env bash
# The sample shop on two Tomcat nodes (http://localhost:8080/shop and :8081/shop) sharing sessions
# and the page cache through a local Redis that this script starts. Ctrl-C stops everything.
set -euo pipefail
cd "$(dirname "$0")"

TOMCAT_VERSION=11.0.24
DEMO=target/demo
REDIS_PORT=6379

need_redis() {
  if command -v redis-server >/dev/null 2>&1; then
    return
  fi
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "Installing redis-server (Debian package)..."
    apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q redis-server
  else
    echo "redis-server is not installed. Install it first, e.g.: sudo apt-get install -y redis-server" >&2
    exit 1
  fi
}

port_free() {
  ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# Whether http://localhost:$1/shop/catalog answers 200 (bash only: curl may be missing).
shop_answers() {
  exec 3<>"/dev/tcp/127.0.0.1/$1" || return 1
  printf 'GET /shop/catalog HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n' >&3
  local status
  read -r -t 10 status <&3 || status=""
  exec 3>&-
  [[ "$status" == *" 200"* ]]
}

need_redis
for port in $REDIS_PORT 8080 8081 8005 8006; do
  if ! port_free "$port"; then
    echo "Port $port is in use; stop what uses it (another Redis or Tomcat?) and run this again." >&2
    exit 1
  fi
done

echo "Building (tests skipped; run them with: mvn -B -ntp verify)..."
mvn -B -q -ntp -DskipTests package

mkdir -p "$DEMO"
if [ ! -d "$DEMO/apache-tomcat-$TOMCAT_VERSION" ]; then
  echo "Fetching Apache Tomcat $TOMCAT_VERSION from Maven Central..."
  mvn -B -q -ntp dependency:copy -Dartifact="org.apache.tomcat:tomcat:$TOMCAT_VERSION:zip" -DoutputDirectory="$DEMO"
  (cd "$DEMO" && jar xf "tomcat-$TOMCAT_VERSION.zip")
fi
CATALINA_HOME="$(pwd)/$DEMO/apache-tomcat-$TOMCAT_VERSION"
chmod +x "$CATALINA_HOME"/bin/*.sh
cp tomcat-redis/target/tomcat-redis-*.jar "$CATALINA_HOME/lib/tomcat-redis.jar"

pids=()
stop_all() {
  echo
  echo "Stopping..."
  for pid in "${pids[@]}"; do
    kill "$pid" 2>/dev/null || true
  done
  wait 2>/dev/null || true
  echo "Stopped."
}
trap stop_all EXIT
trap 'exit 130' INT TERM

# conf/redis-session.conf refuses every client until the users of its ACL file have passwords, as
# an operator would set them up: a copy of conf/users.acl where the session manager's user
# (tomcat-session) and the cache filter's (tomcat-cache) get a password generated for this run
# (stored as SHA-256, as the README advises), and a redis.conf that includes the shipped file and
# points "aclfile" at that copy. Only files readable by this Unix user hold the passwords (not the
# command line of any process, which every local user can read).
umask 077
mkdir -p "$DEMO/redis"
SESSION_PASSWORD="$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')"
CACHE_PASSWORD="$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')"
for user in tomcat-session tomcat-cache; do
  if ! grep -q "^user $user " conf/users.acl; then
    echo "conf/users.acl has no '$user' user" >&2
    exit 1
  fi
done
sha256() { printf %s "$1" | sha256sum | cut -d' ' -f1; }
sed -e "/^user tomcat-session /s/\$/ #$(sha256 "$SESSION_PASSWORD")/" \
    -e "/^user tomcat-cache /s/\$/ #$(sha256 "$CACHE_PASSWORD")/" conf/users.acl > "$DEMO/redis/users.acl"
printf '%s\n' "$SESSION_PASSWORD" > "$DEMO/redis/tomcat-session.password"
printf '%s\n' "$CACHE_PASSWORD" > "$DEMO/redis/tomcat-cache.password"
cat > "$DEMO/redis/redis.conf" <<CONF
include $(pwd)/conf/redis-session.conf
aclfile $(pwd)/$DEMO/redis/users.acl
CONF
redis-server "$(pwd)/$DEMO/redis/redis.conf" --port "$REDIS_PORT" --bind 127.0.0.1 \
  --dir "$(pwd)/$DEMO/redis" --daemonize no --logfile "$(pwd)/$DEMO/redis/redis.log" &
pids+=($!)

for n in 1 2; do
  base="$(pwd)/$DEMO/node$n"
  rm -rf "$base"
  mkdir -p "$base/logs" "$base/temp" "$base/webapps" "$base/work"
  cp -r "$CATALINA_HOME/conf" "$base/"
  cp conf/context-standalone.xml "$base/conf/context.xml"
  # Tomcat turns catalina.properties into system properties: the ${tomcatredis.redisUri} of the
  # context file (the session manager, as tomcat-session) and the ${tomcatredis.cacheRedisUri} of
  # the shop's web.xml (the cache filter, as tomcat-cache).
  printf '\ntomcatredis.redisUri=redis://tomcat-session:%s@localhost:%s\ntomcatredis.cacheRedisUri=redis://tomcat-cache:%s@localhost:%s\n' \
    "$SESSION_PASSWORD" "$REDIS_PORT" "$CACHE_PASSWORD" "$REDIS_PORT" >> "$base/conf/catalina.properties"
  sed -i -e "s/port=\"8005\"/port=\"800$((4 + n))\"/" \
         -e "s/port=\"8080\"/port=\"808$((n - 1))\"/" \
         -e "s/<Engine name=\"Catalina\" defaultHost=\"localhost\">/<Engine name=\"Catalina\" defaultHost=\"localhost\" jvmRoute=\"node$n\">/" \
         "$base/conf/server.xml"
  cp sample-webapp/target/shop.war "$base/webapps/shop.war"
  CATALINA_BASE="$base" CATALINA_OPTS="-Dtomcatredis.node=node$n" "$CATALINA_HOME/bin/catalina.sh" run \
    > "$base/logs/console.log" 2>&1 &
  pids+=($!)
done

echo "Starting Redis and two Tomcat nodes..."
for port in 8080 8081; do
  for _ in $(seq 1 120); do
    if shop_answers "$port" 2>/dev/null; then
      break
    fi
    sleep 0.5
  done
done

cat <<TEXT

  The sample shop is running on two nodes that share sessions and the page cache in Redis:

    node1  http://localhost:8080/shop/
    node2  http://localhost:8081/shop/

  Sign in on one node and continue on the other; the session inspector shows your session as
  Redis holds it. Logs: $DEMO/node1/logs, $DEMO/node2/logs. Press Ctrl-C to stop everything.

  Redis keeps sessions and cache apart with two ACL users ($DEMO/redis/users.acl, from
  conf/users.acl, passwords generated for this run): the session manager's reaches only
  tomcat-session:* keys, the cache filter's only tomcat-cache:* keys. Each answers NOPERM here:
    REDISCLI_AUTH="\$(cat $DEMO/redis/tomcat-cache.password)" redis-cli --user tomcat-cache hgetall tomcat-session:x
    REDISCLI_AUTH="\$(cat $DEMO/redis/tomcat-session.password)" redis-cli --user tomcat-session get tomcat-cache:x

TEXT
wait
