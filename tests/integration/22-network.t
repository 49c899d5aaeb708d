#!/bin/bash
# tier: fast (no qemu, no client daemons), ~19 s
# 22-network: `hull run` networking as a person uses it, entirely inside a
# network namespace this test makes ($NS): hull runs in it (nsenter --net), so
# hull0, veths and the nft table live there, never on the host's network.
# A second namespace ($CL) is an outside client, joined to $NS by a veth.
# Covers: the default bridge (addresses, names, gateway, outbound masquerade),
# published ports (reachable, refused once removed, conflicts), --network
# none/host/ns:/container:, user networks, IPAM (100 runs leave no lease,
# concurrent runs never share an address, a full /29), bad input leaving
# nothing behind, kill -9 mid-set-up followed by rm -f, and network prune.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/fixtures.sh"
is_runtime hull || skip_all "hull's own networking (runtime is $RT_NAME)"
command -v nsenter >/dev/null && command -v ip >/dev/null || skip_all "needs util-linux (nsenter) and iproute2"
command -v nft >/dev/null || skip_all "needs nftables (nft) to check the rules"

NS=hulltest-$$
CL=hulltestc-$$
ip netns add "$NS" 2>/dev/null || skip_all "cannot create a network namespace"
echo "$NS" >>"$TMP/netns"
ip netns add "$CL" && echo "$CL" >>"$TMP/netns"
export HULL_ROOT=$TMP/data

# hull (and anything else) inside the test namespace; `ip netns exec` would
# remount /sys and hide the cgroup hierarchies, nsenter changes only the netns
inns() { nsenter --net="/run/netns/$NS" "$@"; }
nrt() { inns timeout -k 5 "${HULL_TEST_TIMEOUT:-60}" "$HULL" --root "$STATE" "$@"; }
links() { ip -n "$NS" -o link show | awk -F': ' '{print $2}' | sed 's/@.*//' | sort | tr '\n' ' '; }
leases() { cat "$HULL_ROOT"/networks/*.leases 2>/dev/null | wc -l; }
ctr_rules() { inns nft list table inet hull 2>/dev/null | grep -c 'comment "hull:[0-9a-f]\{64\} '; }
veths() { ip -n "$NS" -o link show type veth | grep -c ': hv'; }
# veths of exited containers go with their namespace, which the kernel tears
# down asynchronously (hull rm deletes a lingering one itself): wait a little
settled() { # settled WANT CMD: poll CMD (up to 5 s) until it prints WANT; print what it printed last
    local want=$1 got
    shift
    for _ in $(seq 1 50); do got=$("$@"); [ "$got" = "$want" ] && break; sleep 0.1; done
    echo "$got"
}
state_now() { echo "$(leases)|$(ctr_rules)|$(veths)|$(nctr)"; }
# wait_listen NETNS PORT: until a TCP socket listens on PORT in that namespace (5 s at most)
wait_listen() {
    local hex
    hex=$(printf ':%04X ' "$2")
    for _ in $(seq 1 50); do
        ip netns exec "$1" cat /proc/net/tcp /proc/net/tcp6 2>/dev/null | awk '$4 == "0A"' | grep -q "$hex" && return 0
        sleep 0.1
    done
    return 1
}
nctr() { ls "$HULL_ROOT/containers" 2>/dev/null | wc -l; }

ip -n "$NS" link set lo up
# the outside world: $CL at 192.0.2.2, reaching $NS at 192.0.2.1
ip link add hto-$$ type veth peer name hfrom-$$ &&
    ip link set hto-$$ netns "$NS" && ip link set hfrom-$$ netns "$CL" &&
    ip -n "$NS" addr add 192.0.2.1/24 dev hto-$$ && ip -n "$NS" link set hto-$$ up &&
    ip -n "$CL" addr add 192.0.2.2/24 dev hfrom-$$ && ip -n "$CL" link set hfrom-$$ up &&
    ip -n "$CL" link set lo up || bail_out "cannot wire the client namespace"

LAYOUT=$TMP/bb-oci
"$TESTS_LIB/../../image/make-busybox-image.sh" "$LAYOUT" >/dev/null || bail_out "cannot build the busybox image"
rt image import "$LAYOUT" --name busybox:latest >/dev/null 2>&1 || bail_out "image import failed"

# --- the default bridge ----------------------------------------------------------------
out=$(nrt run --rm busybox sh -c 'ip -4 -o addr show eth0; ip route; cat /etc/hostname /etc/hosts' 2>&1)
like "$out" 'eth0 +inet 10\.88\.0\.[0-9]+/16' "a container gets eth0 with an address on 10.88.0.0/16"
like "$out" 'default via 10\.88\.0\.1 dev eth0' "... and a default route via the bridge"
like "$out" '10\.88\.0\.[0-9]+	[0-9a-f]{12} hull_[0-9a-f]{8}' "... /etc/hosts names it, /etc/hostname is its short id"
ip -n "$NS" -o addr show dev hull0 | grep -q 'inet 10.88.0.1/16'
ok $? "hull0 was made in the test namespace with 10.88.0.1/16"
is "$(inns cat /proc/sys/net/ipv4/ip_forward)" 1 "IPv4 forwarding is on (in the test namespace)"
is "$(leases)" 0 "--rm left no lease"
is "$(settled 0 veths)" 0 "... and no veth once its namespace is gone"

nrt run -d --name c1 busybox sleep 300 >/dev/null 2>&1
nrt run -d --name c2 busybox sleep 300 >/dev/null 2>&1
net=$(nrt network inspect bridge 2>/dev/null)
ip1=$(jq -r '.[0].Containers[] | select(.Name == "c1") | .IPv4' <<<"$net")
ip2=$(jq -r '.[0].Containers[] | select(.Name == "c2") | .IPv4' <<<"$net")
gw=$(jq -r '.[0].Gateway' <<<"$net")
c1id=$(jq -r '.[0].Containers[] | select(.Name == "c1") | .Id' <<<"$net")
veth1=$(jq -r .veth "$HULL_ROOT/containers/$c1id/net.json" 2>/dev/null)
ok "$(ip -n "$NS" link show "$veth1" >/dev/null 2>&1; echo $?)" "c1's veth $veth1 is in the test namespace"
ok "$(! ip link show "$veth1" >/dev/null 2>&1; echo $?)" "... and not on the host's own network"
like "$ip1 $ip2" '^10\.88\.0\.[0-9]+ 10\.88\.0\.[0-9]+$' "network inspect lists both containers with their addresses"
isnt "$ip1" "$ip2" "... different addresses"
nrt exec c2 ping -c1 -W2 "$ip1" >/dev/null 2>&1
ok $? "c2 pings c1 by address"
nrt exec c2 ping -c1 -W2 c1 >/dev/null 2>&1
ok $? "c2 pings c1 by name"
nrt exec c1 ping -c1 -W2 c2 >/dev/null 2>&1
ok $? "c1 pings c2 by name (its /etc/hosts learnt c2 after it started)"

# servers: busybox httpd in the foreground (killed after), serving one file
mkdir -p "$TMP/www" && echo hello-server >"$TMP/www/f"
nsenter --net="/run/netns/$NS" busybox httpd -f -p 18081 -h "$TMP/www" &   # (execs: $! is httpd)
srv=$!
wait_listen "$NS" 18081 || diag "the server on 18081 is not listening"
out=$(nrt exec c1 wget -qO- "http://$gw:18081/f" 2>&1)
is "$out" hello-server "a container reaches a TCP server listening on the gateway"
kill "$srv" 2>/dev/null
wait "$srv" 2>/dev/null

nsenter --net="/run/netns/$CL" busybox httpd -f -p 18082 -h "$TMP/www" &
srv=$!
wait_listen "$CL" 18082 || diag "the server on 18082 is not listening"
out=$(nrt exec c1 wget -qO- "http://192.0.2.2:18082/f" 2>&1)
is "$out" hello-server "outbound: a container reaches another namespace (forwarding + masquerade)"
kill "$srv" 2>/dev/null
wait "$srv" 2>/dev/null
like "$(inns nft list table inet hull 2>&1)" 'ip saddr 10\.88\.0\.0/16 oifname != "hull0" masquerade' "... through hull's masquerade rule"

# --- published ports -------------------------------------------------------------------
id=$(nrt run -d --name web -p 18080:80 busybox sh -c 'echo web-ok >/tmp/i; exec httpd -f -p 80 -h /tmp' 2>&1)
like "$id" '^[0-9a-f]{64}$' "run -d -p 18080:80"
for _ in $(seq 1 50); do nrt exec web sh -c 'cat /proc/net/tcp' 2>/dev/null | grep -q ':0050 .* 0A ' && break; sleep 0.1; done
is "$(ip netns exec "$CL" timeout 5 busybox wget -qO- http://192.0.2.1:18080/i 2>&1)" web-ok \
    "the published port is reachable from outside (client namespace -> 192.0.2.1:18080)"
is "$(inns timeout 5 busybox wget -qO- http://192.0.2.1:18080/i 2>&1)" web-ok "... and from the host itself"
like "$(inns nft list table inet hull)" "dnat ip to 10\.88\.0\.[0-9]+:80 comment \"hull:$id " "the DNAT rules carry the container's id"
nrt run --rm --name web2 -p 18080:81 busybox true >/dev/null 2>"$TMP/err"
isnt $? 0 "a second container on the same host port fails"
like "$(cat "$TMP/err")" "already published by container ${id:0:12}" "... saying which container has it"
is "$(nrt ps -a --format json | jq '[.[] | select(.Names == "web2")] | length')" 0 "... and leaves no container record"
nrt rm -f web >/dev/null 2>&1
ip netns exec "$CL" timeout 5 busybox nc -w 2 192.0.2.1 18080 </dev/null >/dev/null 2>&1
isnt $? 0 "after rm the port is no longer reachable (connection refused)"
is "$(inns nft list table inet hull | grep -c "$id")" 0 "... and its rules are gone"

# --- other modes -----------------------------------------------------------------------
out=$(nrt run --rm --network none busybox sh -c 'tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d " "; ip -o link show lo' 2>&1)
is "$(head -1 <<<"$out")" lo "--network none: only lo"
is "$(grep -c . <<<"$(grep -v 'LOOPBACK' <<<"$out")")" 1 "... nothing else"
like "$out" 'LOOPBACK,UP' "... and lo is up"
out=$(nrt run --rm --network host busybox cat /proc/net/dev 2>&1)
like "$out" "hto-$$:" "--network host: the container sees the (test namespace's) host links"
like "$out" 'hull0:' "... hull0 among them"
JN=hulltestj-$$
ip netns add "$JN" && echo "$JN" >>"$TMP/netns"
ip -n "$JN" link add joinme0 type veth peer name joinme1
out=$(nrt run --rm --network "ns:/run/netns/$JN" busybox cat /proc/net/dev 2>&1)
like "$out" 'joinme0:' "--network ns:PATH joins that namespace"
is "$(ip -n "$JN" -o link show | wc -l)" 3 "... and hull added nothing to it"
out=$(nrt run --rm --network container:c1 busybox sh -c 'ip -4 -o addr show eth0; cat /etc/hosts' 2>&1)
like "$out" "inet $ip1/16" "--network container:c1 shares c1's namespace (same address)"
like "$out" 'c2' "... and c1's /etc/hosts"
nrt run --rm --network container:nosuch busybox true >/dev/null 2>"$TMP/err"
isnt $? 0 "--network container: of a missing container fails"

# --- user networks ---------------------------------------------------------------------
is "$(nrt network create mynet --subnet 10.200.0.0/24 2>&1)" mynet "network create mynet --subnet 10.200.0.0/24"
nrt run -d --name m1 --network mynet busybox sleep 300 >/dev/null 2>&1
nrt run -d --name m2 --network mynet busybox sleep 300 >/dev/null 2>&1
nrt exec m2 ping -c1 -W2 m1 >/dev/null 2>&1
ok $? "m2 reaches m1 by name on mynet"
like "$(nrt exec m1 ip -4 -o addr show eth0 2>&1)" 'inet 10\.200\.0\.[0-9]+/24' "... with an address of mynet"
nrt exec m2 ping -c1 -W1 c1 >/dev/null 2>&1
isnt $? 0 "names of another network are not known"
like "$(nrt network ls 2>&1)" 'mynet +hull[0-9]+ +10\.200\.0\.0/24 +10\.200\.0\.1 .* 2' "network ls: mynet, its bridge, 2 containers"
nrt network rm mynet >/dev/null 2>"$TMP/err"
isnt $? 0 "network rm refuses while containers use it"
like "$(cat "$TMP/err")" 'has 2 containers' "... saying why"
br=$(nrt network inspect mynet | jq -r '.[0].Bridge')
nrt rm -f m1 m2 >/dev/null 2>&1
nrt network rm mynet >/dev/null 2>&1
ok $? "network rm once empty"
ok "$(! ip -n "$NS" link show "$br" >/dev/null 2>&1; echo $?)" "... its bridge $br is gone"
is "$(inns nft list table inet hull | grep -c "post-$br")" 0 "... and its nft chain"

# IPv6: a dual-stack network
nrt network create dual --subnet 10.203.0.0/24 --subnet6 fd00:203::/64 >/dev/null 2>&1
nrt run -d --name d1 --network dual busybox sleep 300 >/dev/null 2>&1
out=$(nrt run --rm --network dual busybox sh -c 'ip -6 -o addr show eth0 scope global; ip -6 route show default;
    ping6 -c1 -W2 fd00:203::1 >/dev/null && echo gw6-ok; ping6 -c1 -W2 d1 >/dev/null && echo name6-ok' 2>&1)
like "$out" 'inet6 fd00:203::[0-9a-f]+/64' "--subnet6: the container gets an IPv6 address too"
like "$out" 'default via fd00:203::1' "... an IPv6 default route"
like "$out" 'gw6-ok' "... reaches the IPv6 gateway at once (no DAD wait)"
like "$out" 'name6-ok' "... and another container by name over IPv6"
nrt rm -f d1 >/dev/null 2>&1
nrt network rm dual >/dev/null 2>&1

# --- IPAM ------------------------------------------------------------------------------
base=$(leases)
fails=0
for i in $(seq 1 100); do nrt run --rm busybox true >/dev/null 2>&1 || fails=$((fails + 1)); done
is "$fails" 0 "100 containers run and removed"
is "$(leases)" "$base" "... no lease left behind (only c1's and c2's)"
is "$(settled 2 veths)" 2 "... no veth left behind (only c1's and c2's)"
for i in 1 2 3 4 5 6 7 8; do
    nrt run --rm busybox sh -c 'ip -4 -o addr show eth0; sleep 1' >"$TMP/conc.$i" 2>&1 &
done
wait
addrs=$(cat "$TMP"/conc.* | grep -o 'inet [0-9.]*' | sort)
is "$(wc -l <<<"$addrs")" 8 "8 concurrent runs each got an address"
is "$(sort -u <<<"$addrs" | wc -l)" 8 "... never the same one twice"
nrt network create tiny --subnet 10.201.0.0/29 >/dev/null 2>&1
for i in 1 2 3 4 5; do nrt run -d --name t$i --network tiny busybox sleep 300 >/dev/null 2>&1; done
is "$(nrt network inspect tiny | jq '.[0].Containers | length')" 5 "a /29 takes 5 containers"
n0=$(nctr)
nrt run --rm --network tiny busybox true >/dev/null 2>"$TMP/err"
isnt $? 0 "the sixth fails"
like "$(cat "$TMP/err")" 'no free address in 10\.201\.0\.0/29 \(all 5 in use' "... with a clear error"
is "$(nctr)" "$n0" "... and leaves no container behind"
nrt rm -f t1 t2 t3 t4 t5 >/dev/null 2>&1
nrt network rm tiny >/dev/null 2>&1

# --- bad input: clear errors, nothing half-made -------------------------------------------
before="$(links)|$(leases)|$(ctr_rules)|$(nctr)|$(ls "$HULL_ROOT/networks")"
check_bad() { # check_bad DESC REGEX CMD...
    local desc=$1 re=$2
    shift 2
    "$@" >/dev/null 2>"$TMP/err"
    local rc=$?
    isnt "$rc" 0 "$desc: fails"
    like "$(cat "$TMP/err")" "$re" "$desc: says why"
}
check_bad "invalid CIDR (/33)" 'prefix length 33 is out of range' nrt network create bad1 --subnet 10.202.0.0/33
check_bad "CIDR with host bits" 'host bits are set' nrt network create bad2 --subnet 10.202.0.1/24
check_bad "CIDR garbage" 'not an IPv4 or IPv6 address' nrt network create bad3 --subnet tenfoo/24
check_bad "subnet overlapping a route" 'overlaps' nrt network create bad4 --subnet 192.0.2.0/25
check_bad "bad interface name" 'not a valid interface name' nrt network create bad5 --bridge 'br/0'
check_bad "too long interface name" 'not a valid interface name' nrt network create bad6 --bridge 'abcdefghijklmnopq'
check_bad "bad network name" 'only \[A-Za-z0-9_.-\]' nrt network create 'bad name'
check_bad "port out of range" 'host port "70000" is not a port number' nrt run --rm -p 70000:80 busybox true
check_bad "port zero" 'container port "0" is not a port number' nrt run --rm -p 8080:0 busybox true
check_bad "unknown protocol" 'unknown protocol' nrt run --rm -p 8080:80/sctp busybox true
check_bad "a network that does not exist" 'network "nosuchnet" not found' nrt run --rm --network nosuchnet busybox true
check_bad "a bad --network value" 'not bridge, none, host' nrt run --rm --network 'a b' busybox true
check_bad "-p with --network none" 'needs a bridge network' nrt run --rm --network none -p 8080:80 busybox true
is "$(links)|$(leases)|$(ctr_rules)|$(nctr)|$(ls "$HULL_ROOT/networks")" "$before" \
    "after all of that: same links, leases, rules, containers and network files"

# --- kill -9 of hull mid-set-up, then rm -f ---------------------------------------------------
for i in $(seq 1 12); do
    # nsenter execs hull: $! is hull itself
    nsenter --net="/run/netns/$NS" "$HULL" --root "$STATE" run --name k$i -p $((18100 + i)):80 busybox sleep 30 \
        >/dev/null 2>&1 &
    p=$!
    sleep "0.0$((i % 10))"
    kill -9 "$p" 2>/dev/null
    wait "$p" 2>/dev/null
    nrt rm -f k$i >>"$TMP/krm.out" 2>&1
done
net_now() { echo "$(leases)|$(ctr_rules)|$(veths)"; }
is "$(settled "2|0|2" net_now)" "2|0|2" "12 kills at different points of set-up, each followed by rm -f: no lease, rule or veth left" ||
    diag "$(cat "$TMP/krm.out"; for d in "$HULL_ROOT"/containers/*; do echo "$d: $(ls "$d")"; cat "$d/meta.json" "$d/net.json"; done 2>&1)"
# A record is born with its name (lifecycle/ctr_store.c: made in a staging dir, renamed into
# place), so rm -f by name found every one: none is left, named or not.
named=0
for d in "$HULL_ROOT"/containers/*; do
    [ -d "$d" ] || continue
    id=${d##*/}
    case $id in "$c1id") continue ;; esac
    jq -e '.name == "c2"' "$d/meta.json" >/dev/null 2>&1 && continue
    named=$((named + 1)); diag "left: $d ($(cat "$d/meta.json" 2>&1))"; nrt rm -f "$id" >/dev/null 2>&1
done
is "$named" 0 "... and no record either, named or not (rm -f by name removed them all)"

# --- network prune after a crash ------------------------------------------------------------
nsenter --net="/run/netns/$NS" "$HULL" --root "$STATE" run --name crash -p 18200:80 busybox sleep 30 >/dev/null 2>&1 &
p=$!
for _ in $(seq 1 50); do nrt ps 2>/dev/null | grep -q crash && break; sleep 0.1; done
kill -9 "$p"
wait "$p" 2>/dev/null
cpid=$(nrt state crash 2>/dev/null | jq -r .pid)
is "$(leases)|$(ctr_rules)" "3|2" "a hull killed while its container runs: the lease and rules stay (it still runs)"
is "$(nrt network prune 2>&1)" "removed 0 leases, 0 rules, 0 links" "... and prune leaves a running container alone"
[ -n "$cpid" ] && [ "$cpid" != 0 ] && kill -9 "$cpid" 2>/dev/null   # now the container dies too: a full crash
sleep 0.3
like "$(nrt network prune 2>&1)" 'removed 1 lease, 2 rules' "network prune reclaims them"
is "$(leases)|$(ctr_rules)" "2|0" "... only the live containers' leases are left"
nrt rm -f crash >/dev/null 2>&1

# --- the end: nothing left --------------------------------------------------------------------
nrt rm -f c1 c2 >/dev/null 2>&1
is "$(state_now)" "0|0|0|0" "all containers removed: no lease, rule, veth or record (rm deletes a lingering veth itself)"
nrt network rm bridge >/dev/null 2>&1
ok "$(! ip -n "$NS" link show hull0 >/dev/null 2>&1; echo $?)" "network rm bridge removes hull0"
done_testing
