#!/usr/bin/env bash
# The VPC service end to end, through the CLI only: `bash examples/vpc-demo.sh`.
#
# Starts `vnet serve` on a temporary database and a free port (stopped, and the database removed,
# at the end), then builds two tenants, blue and green, each with a VPC 10.0.0.0/16 (the same
# addresses) of two subnets, an internet gateway, security groups and instances on several racks;
# then pings, reachability questions (one allowed, one blocked naming the rule), a hop-by-hop trace,
# and a live migration of an instance to another hypervisor followed by a ping that still answers.
#
# Every command is printed before it runs (`$ vnet ...`). The script stops at the first step that
# fails (set -euo pipefail); the steps expected to fail (a blocked ping, another tenant's instance)
# fail the script when they succeed. Against a running service instead: VNET_ENDPOINT=http://...
# VNET_ADMIN_TOKEN=<its admin token> bash examples/vpc-demo.sh (the tenant names must be free).
set -euo pipefail

cd "$(dirname "$0")/.."
if [ ! -f dist/src/cli/main.js ]; then
  echo "vpc-demo: vnet is not built; run npm ci (or npm run build) first" >&2
  exit 1
fi

vnet() { node bin/vnet "$@"; }

# Prints a command as a user types it, then runs it.
run() {
  echo "\$ vnet $*"
  vnet "$@"
}

# A command that must fail (exit status not 0): the script fails if it succeeds.
run_failing() {
  echo "\$ vnet $*"
  local status=0
  vnet "$@" || status=$?
  if [ "$status" -eq 0 ]; then
    echo "vpc-demo: expected \`vnet $*\` to fail, and it succeeded" >&2
    exit 1
  fi
  echo "(exit status $status, as expected)"
}

# One field of the JSON object on stdin.
field() {
  node -e 'let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => console.log(JSON.parse(s)[process.argv[1]]));' "$1"
}

section() {
  echo
  echo "## $*"
}

if [ -z "${VNET_ENDPOINT:-}" ]; then
  workdir=$(mktemp -d "${TMPDIR:-/tmp}/vnet-demo.XXXXXX")
  VNET_ADMIN_TOKEN=$(node -e 'console.log("vnet_" + require("node:crypto").randomBytes(32).toString("base64url"))')
  export VNET_ADMIN_TOKEN
  node bin/vnet serve --db "$workdir/vnet.db" --port 0 >"$workdir/serve.log" 2>&1 &
  serve_pid=$!
  cleanup() {
    kill "$serve_pid" 2>/dev/null || true
    wait "$serve_pid" 2>/dev/null || true
    rm -rf "$workdir"
  }
  trap cleanup EXIT
  for _ in $(seq 1 200); do
    VNET_ENDPOINT=$(sed -n 's/.*listening on \(http:\/\/[0-9.]*:[0-9]*\).*/\1/p' "$workdir/serve.log")
    [ -n "$VNET_ENDPOINT" ] && break
    if ! kill -0 "$serve_pid" 2>/dev/null; then
      echo "vpc-demo: vnet serve exited:" >&2
      cat "$workdir/serve.log" >&2
      exit 1
    fi
    sleep 0.1
  done
  if [ -z "$VNET_ENDPOINT" ]; then
    echo "vpc-demo: vnet serve did not start in 20 s:" >&2
    cat "$workdir/serve.log" >&2
    exit 1
  fi
  echo "vnet serve (pid $serve_pid) listening on $VNET_ENDPOINT, database $workdir/vnet.db"
else
  : "${VNET_ADMIN_TOKEN:?set VNET_ADMIN_TOKEN to the admin token of the service at $VNET_ENDPOINT}"
fi
export VNET_ENDPOINT
ADMIN=$VNET_ADMIN_TOKEN

section "Tenants and their tokens (with the admin token)"
VNET_TOKEN=$ADMIN run tenant create blue
VNET_TOKEN=$ADMIN run tenant create green
BLUE=$(VNET_TOKEN=$ADMIN vnet token create blue --output json | field token)
GREEN=$(VNET_TOKEN=$ADMIN vnet token create green --output json | field token)
echo "(a token each for blue and green, in \$BLUE and \$GREEN)"

# One tenant's network: VPC 10.0.0.0/16, subnets web and db, an internet gateway for web, groups
# web (HTTP from anywhere, ICMP from the VPC) and db (PostgreSQL from the web group only), and
# instances on the racks given.
build_tenant() {
  local web_host1=$1 web_host2=$2 db_host=$3
  run vpc create prod --cidr 10.0.0.0/16
  run subnet create web --vpc prod --cidr 10.0.1.0/24
  run subnet create db --vpc prod --cidr 10.0.2.0/24
  run igw create gw --vpc prod
  run route-table create public --vpc prod --route 0.0.0.0/0=gw
  run subnet associate web --route-table public
  run sg create web --vpc prod --ingress tcp:80:0.0.0.0/0 --ingress icmp:10.0.0.0/16 --egress all:0.0.0.0/0
  local web_sg
  web_sg=$(vnet sg get web --output json | field id)
  run sg create db --vpc prod --ingress "tcp:5432:$web_sg" --egress all:10.0.0.0/16
  run instance launch web1 --subnet web --sg web --host "$web_host1"
  run instance launch web2 --subnet web --sg web --host "$web_host2"
  run instance launch db1 --subnet db --sg db --host "$db_host"
}

section "blue: VPC 10.0.0.0/16, subnets web and db, internet gateway, security groups, 3 instances on 3 racks"
export VNET_TOKEN=$BLUE
build_tenant leaf1-srv1 leaf2-srv1 leaf2-srv2

section "green: the same addresses, other racks"
export VNET_TOKEN=$GREEN
build_tenant leaf1-srv2 leaf2-srv2 leaf1-srv1
run ping web1 web2 --count 2

section "blue: ping across the fabric, and out through the internet gateway"
export VNET_TOKEN=$BLUE
run instance list
run ping web1 web2 --count 3
run ping web1 198.51.100.10 --count 2

section "blue: a ping the db group does not allow (ICMP is not in its rules): lost, and why"
run_failing ping web1 db1 --count 2

section "blue: reachability, allowed and blocked"
run reach web1 db1 --proto tcp --port 5432
run reach db1 web1 --proto tcp --port 22

section "blue: one packet traced hop by hop (web1 on leaf1-srv1 to db1 on leaf2-srv2, PostgreSQL)"
run trace web1 db1 --proto tcp --port 5432

section "green cannot see blue's instances (as green)"
blue_web2=$(vnet instance get web2 --output json | field id)
VNET_TOKEN=$GREEN run_failing ping web1 "$blue_web2"

section "blue: live-migrate web2 to leaf1-srv2; it still answers"
run instance migrate web2 leaf1-srv2
run ping web1 web2 --count 3

echo
echo "vpc-demo: done"
