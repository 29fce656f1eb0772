#!/usr/bin/env bash
# `make bench`: the Go benchmarks, then one load run on loopback that puts
# the stub binary, the floor (a bare Echo route, bench/floor), WireMock
# (pinned in bench/wiremock, mappings generated from the contract by
# bench/wiremock/gen) and Stoplight Prism (pinned in bench/prism) under the
# same wrk load (bench/load.lua: post, refusal, get), and writes the table
# to bench/results.md (or $RESULTS).
#
# Environment: DURATION (10s) and WARMUP (3s) per wrk run, JIT_WARMUP (30s)
# more warm-up for WireMock's first run of each workload, ROUNDS (3) of
# runs per server and workload (medians are reported), STARTS (5) starts
# timed per server, THREADS (2) and CONNECTIONS (32) for wrk, SOAK (1000000)
# requests the stub has served before its RSS is taken, SOAK_MAX (120) seconds
# of extra load at most to get there, GO_COUNT (3) runs of each Go benchmark,
# GO_BENCH=0 to skip them, LOAD=0 to skip the load run, TARGETS ("floor stub
# wiremock prism"; also stub-sqlite; floor-hardened, the floor with
# cmd/osm-stub's http.Server limits, and stub-lean, the stub without journal
# and access log, which together split what the stub adds to the floor;
# floor-work, the floor spending FLOOR_WORK (8us) of CPU in every request,
# which tells what a microsecond of a handler's own work costs over the
# floor; and
# with STUB_BEFORE=another osm-stub binary stub-before and
# stub-before-sqlite), RESULTS (bench/results.md). It fails if any server
# gives a bad answer. Every process it starts is stopped when it ends,
# fails or is interrupted. See BENCHMARKS.md.
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-10s}
WARMUP=${WARMUP:-3s}
THREADS=${THREADS:-2}
CONNECTIONS=${CONNECTIONS:-32}
GO_BENCH=${GO_BENCH:-1}
LOAD=${LOAD:-1}
TARGETS=${TARGETS:-floor stub wiremock prism}
ROUNDS=${ROUNDS:-3}
JIT_WARMUP=${JIT_WARMUP:-30s}
SOAK=${SOAK:-1000000}
SOAK_MAX=${SOAK_MAX:-120}
FLOOR_WORK=${FLOOR_WORK:-8us}
MODES="post refusal get"
ALL_TARGETS="stub floor floor-hardened floor-work stub-lean wiremock prism stub-sqlite stub-before stub-before-sqlite" # the report's order
STARTS=${STARTS:-5}
RESULTS=${RESULTS:-bench/results.md}
OUT=bench/out
GO=${GO:-go}
mkdir -p "$OUT"

GET_PATH=/v2/servicerequest/cases/DEMO-1/relations
WIREMOCK_JAR=bench/wiremock/node_modules/wiremock/build/wiremock-standalone-3.13.2.jar
TOKEN='X-Auth-Token: demo-token'

log() { printf '%s bench: %s\n' "$(date +%T)" "$*" >&2; }

# --- cleanup: every process group started here ---------------------------
groups=()
stop_group() {
	local pgid=$1 i
	kill -TERM -- "-$pgid" 2>/dev/null || return 0
	for i in $(seq 50); do
		kill -0 -- "-$pgid" 2>/dev/null || return 0
		sleep 0.1
	done
	kill -KILL -- "-$pgid" 2>/dev/null || true
}
cleanup() {
	local g
	for g in "${groups[@]}"; do [ -n "$g" ] && stop_group "$g"; done
	groups=()
	[ -n "${sampler:-}" ] && kill "$sampler" 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- tools -----------------------------------------------------------------
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

need_wrk() {
	command -v wrk >/dev/null && return
	log "installing wrk (apt-get)"
	as_root apt-get update -qq
	DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq wrk >/dev/null
}

need_prism() {
	local stamp=bench/prism/node_modules/.osmstub-installed
	if [ ! -f "$stamp" ] || [ bench/prism/package.json -nt "$stamp" ] || [ bench/prism/package-lock.json -nt "$stamp" ]; then
		if ! command -v npm >/dev/null; then
			log "installing Node.js and npm (apt-get) for Prism"
			as_root apt-get update -qq
			DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq nodejs npm >/dev/null
		fi
		log "npm ci --prefix bench/prism"
		SCARF_ANALYTICS=false npm ci --prefix bench/prism --ignore-scripts --no-audit --no-fund --no-update-notifier --loglevel=error >/dev/null
		touch "$stamp"
	fi
}

need_java() {
	command -v java >/dev/null && return
	log "installing a headless Java runtime (apt-get) for WireMock"
	as_root apt-get update -qq
	DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq openjdk-17-jre-headless >/dev/null
}

need_wiremock() {
	need_java
	local stamp=bench/wiremock/node_modules/.osmstub-installed
	if [ ! -f "$stamp" ] || [ bench/wiremock/package.json -nt "$stamp" ] || [ bench/wiremock/package-lock.json -nt "$stamp" ]; then
		command -v npm >/dev/null || {
			as_root apt-get update -qq
			DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq nodejs npm >/dev/null
		}
		log "npm ci --prefix bench/wiremock"
		npm ci --prefix bench/wiremock --ignore-scripts --no-audit --no-fund --no-update-notifier --loglevel=error >/dev/null
		touch "$stamp"
	fi
	rm -rf "$OUT/wiremock" && mkdir -p "$OUT/wiremock"
	$GO run ./bench/wiremock/gen -spec openapi.yaml -out "$OUT/wiremock/mappings"
}

# --- measuring ------------------------------------------------------------
# group_rss_kb PGID: resident memory of every process of the group.
group_rss_kb() { ps -eo pgid=,rss= | awk -v g="$1" '$1 == g { s += $2 } END { print s + 0 }'; }
# group_cpu_ticks PGID: user+system CPU time of the group, in clock ticks.
group_cpu_ticks() {
	local pid t=0 f
	for pid in $(ps -eo pid=,pgid= | awk -v g="$1" '$2 == g { print $1 }'); do
		f=$(cat "/proc/$pid/stat" 2>/dev/null) || continue
		f=${f##*) }
		# fields after the command: state=1 ... utime=12 stime=13
		t=$((t + $(echo "$f" | awk '{ print $12 + $13 }')))
	done
	echo "$t"
}
CLK_TCK=$(getconf CLK_TCK)

# start NAME URL [header] -- command...: starts a server through firstok,
# sets PGID, PORT, START_MS.
start() {
	local name=$1 url=$2 header=$3
	shift 4
	local line
	line=$("$OUT/firstok" -url "$url" ${header:+-H "$header"} -pidfile "$OUT/$name.pid" -log "$OUT/$name.log" -- "$@") || {
		log "$name did not start; its log:"
		tail -20 "$OUT/$name.log" >&2
		exit 1
	}
	PGID=$(cat "$OUT/$name.pid")
	groups+=("$PGID")
	PORT=$(sed -n 's/.*port=\([0-9]*\).*/\1/p' <<<"$line")
	START_MS=$(sed -n 's/.*start_ms=\([0-9.]*\).*/\1/p' <<<"$line")
}

# load NAME MODE: warm-up, then the measured wrk run with RSS sampling; sets
# R_RPS R_P50 R_P99 R_BAD R_CPU (server CPU us per request) R_RSS_MAX (kB).
load() {
	local name=$1 mode=$2 url="http://127.0.0.1:$PORT" res warm=$WARMUP arg=
	[ "$name" = prism ] && arg=prefer # Prism picks a refusal by Prefer (bench/load.lua)
	if [ "$name" = wiremock ] && [ -z "${T[$name,$mode,warm]:-}" ]; then
		warm=$JIT_WARMUP T[$name,$mode,warm]=1
	fi
	wrk -t"$THREADS" -c"$CONNECTIONS" -d"$warm" -s bench/load.lua "$url" -- "$mode" $arg >"$OUT/$name-$mode-warmup.txt"
	T[$name,served]=$((${T[$name,served]:-0} + $(sed -n 's/^RESULT requests=\([0-9]*\).*/\1/p' "$OUT/$name-$mode-warmup.txt")))
	local rssfile="$OUT/$name-$mode-rss.txt"
	: >"$rssfile"
	(while :; do group_rss_kb "$PGID" >>"$rssfile"; sleep 0.25; done) &
	sampler=$!
	local cpu0 cpu1
	cpu0=$(group_cpu_ticks "$PGID")
	wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --timeout 5s -s bench/load.lua "$url" -- "$mode" $arg >"$OUT/$name-$mode.txt"
	cpu1=$(group_cpu_ticks "$PGID")
	kill "$sampler" 2>/dev/null || true
	wait "$sampler" 2>/dev/null || true
	sampler=
	res=$(grep '^RESULT' "$OUT/$name-$mode.txt") || { log "no result from wrk for $name $mode"; cat "$OUT/$name-$mode.txt" >&2; exit 1; }
	kv() { sed -n "s/.* $1=\([0-9.]*\).*/\1/p" <<<" $res"; }
	R_REQ=$(kv requests)
	R_RPS=$(kv rps)
	R_P50=$(kv p50_us)
	R_P99=$(kv p99_us)
	R_BAD=$(($(kv non2xx) + $(kv bad_bodies) + $(kv socket_errors)))
	T[$name,served]=$((${T[$name,served]:-0} + R_REQ))
	R_CPU=$(awk -v t=$((cpu1 - cpu0)) -v hz="$CLK_TCK" -v n="$R_REQ" 'BEGIN { printf "%.1f", n ? t / hz * 1e6 / n : 0 }')
	R_RSS_MAX=$(sort -n "$rssfile" | tail -1)
	log "$name $mode: $R_RPS req/s, p50 ${R_P50}us, p99 ${R_P99}us, ${R_CPU}us CPU/req, bad answers $R_BAD"
}

# --- the Go benchmarks ----------------------------------------------------
go_bench() {
	local f="$OUT/go-bench.txt"
	log "Go benchmarks -> $f"
	{
		$GO test -run '^$' -bench 'BenchmarkHandler$|BenchmarkValidateRequest' -benchmem -count "${GO_COUNT:-3}" ./server/
		$GO test -run '^$' -bench 'BenchmarkStore' -benchmem -count 1 ./server/store/memory/
		$GO test -run '^$' -bench 'BenchmarkRun' -benchmem -count "${GO_COUNT:-3}" ./osmstubtest/
		$GO test -run '^$' -bench 'BenchmarkVerify' -benchmem -count "${GO_COUNT:-3}" ./aksk/
	} 2>&1 | tee "$f" | grep -E '^(Benchmark|ok|FAIL|---)' >&2
}

# start_target NAME: starts one of the servers under test.
start_target() {
	case $1 in
	stub) start stub "http://127.0.0.1:{port}$GET_PATH" "$TOKEN" -- \
		"$OUT/osm-stub" -addr '127.0.0.1:{port}' -fixtures bench/fixtures.yaml ;;
	floor) start floor "http://127.0.0.1:{port}$GET_PATH" "" -- \
		"$OUT/floor" -addr '127.0.0.1:{port}' ;;
	floor-hardened) start floor-hardened "http://127.0.0.1:{port}$GET_PATH" "" -- \
		"$OUT/floor" -addr '127.0.0.1:{port}' -hardened ;;
	stub-lean) start stub-lean "http://127.0.0.1:{port}$GET_PATH" "$TOKEN" -- \
		"$OUT/osm-stub" -addr '127.0.0.1:{port}' -fixtures bench/fixtures.yaml -journal 0 -log-level warn ;;
	floor-work) start floor-work "http://127.0.0.1:{port}$GET_PATH" "" -- \
		"$OUT/floor" -addr '127.0.0.1:{port}' -work "$FLOOR_WORK" ;;
	stub-sqlite) start stub-sqlite "http://127.0.0.1:{port}$GET_PATH" "$TOKEN" -- \
		"$OUT/osm-stub" -addr '127.0.0.1:{port}' -fixtures bench/fixtures.yaml -store "sqlite:$OUT/bench-sqlite.db" ;;
	stub-before) start stub-before "http://127.0.0.1:{port}$GET_PATH" "$TOKEN" -- \
		"$STUB_BEFORE" -addr '127.0.0.1:{port}' -fixtures bench/fixtures.yaml ;;
	stub-before-sqlite) start stub-before-sqlite "http://127.0.0.1:{port}$GET_PATH" "$TOKEN" -- \
		"$STUB_BEFORE" -addr '127.0.0.1:{port}' -fixtures bench/fixtures.yaml -store "sqlite:$OUT/bench-before-sqlite.db" ;;
	wiremock) start wiremock "http://127.0.0.1:{port}$GET_PATH" "$TOKEN" -- \
		java -jar "$WIREMOCK_JAR" --port '{port}' --bind-address 127.0.0.1 --root-dir "$OUT/wiremock" \
		--disable-banner --max-request-journal-entries 1000 ;;
	prism) start prism "http://127.0.0.1:{port}$GET_PATH" "$TOKEN" -- \
		bench/prism/node_modules/.bin/prism mock -h 127.0.0.1 -p '{port}' -v silent openapi.yaml ;;
	*) log "unknown target $1"; exit 1 ;;
	esac
}

# --- the load run -----------------------------------------------------------
# All servers run at once (idle but for the one under load) and the wrk runs
# are interleaved, ROUNDS times: a shared machine's load drifts, and this
# way it weighs on every server alike. Each figure is the median of the
# rounds (each figure on its own).
declare -A T
load_run() {
	need_wrk
	case " $TARGETS " in *" prism "*) need_prism ;; esac
	case " $TARGETS " in *" wiremock "*) need_wiremock ;; esac
	rm -f "$OUT"/bench-sqlite.db* "$OUT"/bench-before-sqlite.db*
	log "building the stub, the floor and firstok"
	$GO build -o "$OUT/osm-stub" ./cmd/osm-stub
	$GO build -o "$OUT/floor" ./bench/floor
	$GO build -o "$OUT/firstok" ./bench/firstok
	local t m r i starts
	for t in $TARGETS; do
		# Start it STARTS times (the time to the first 200 of one start
		# swings with the machine's load; the median is reported), and keep
		# the last one running.
		starts=()
		for i in $(seq "$STARTS"); do
			start_target "$t"
			starts+=("$START_MS")
			[ "$i" -lt "$STARTS" ] && stop_group "$PGID" && groups=("${groups[@]/$PGID/}")
		done
		T[$t,start]=$(printf '%s\n' "${starts[@]}" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
		T[$t,starts]="${starts[*]}"
		T[$t,port]=$PORT T[$t,pgid]=$PGID T[$t,loaded]=0 T[$t,bad]=0
		sleep 1
		T[$t,idle]=$(group_rss_kb "$PGID")
		log "$t: first 200 after ${starts[*]} ms (median ${T[$t,start]}), idle RSS ${T[$t,idle]} kB"
	done
	for r in $(seq "$ROUNDS"); do
		for m in $MODES; do
			for t in $TARGETS; do
				PORT=${T[$t,port]} PGID=${T[$t,pgid]}
				load "$t" "$m"
				T[$t,$m,runs]="${T[$t,$m,runs]:-}${T[$t,$m,runs]:+, }$(printf '%.0f' "$R_RPS")"
				T[$t,$m,cpuruns]="${T[$t,$m,cpuruns]:-}${T[$t,$m,cpuruns]:+, }$R_CPU"
				T[$t,bad]=$((T[$t,bad] + R_BAD))
				[ "$R_RSS_MAX" -gt "${T[$t,loaded]}" ] && T[$t,loaded]=$R_RSS_MAX
				T[$t,$m,all]="${T[$t,$m,all]:-} $R_RPS:$R_P50:$R_P99:$R_CPU"
			done
		done
	done
	local k
	for t in $TARGETS; do
		for m in $MODES; do
			for k in rps:1 p50:2 p99:3 cpu:4; do
				T[$t,$m,${k%:*}]=$(median_field "${k#*:}" ${T[$t,$m,all]})
			done
		done
	done
	soak
	for t in $TARGETS; do stop_group "${T[$t,pgid]}"; done
	groups=()
}

# median_field N VALUES...: the median of field N of colon-separated values.
median_field() {
	local n=$1
	shift
	printf '%s\n' "$@" | cut -d: -f"$n" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}

# soak: more post load on the stub until it has served SOAK requests (or
# SOAK_MAX seconds have passed), then its RSS.
soak() {
	case " $TARGETS " in *" stub "*) ;; *) return ;; esac
	PORT=${T[stub,port]} PGID=${T[stub,pgid]}
	local t0=$SECONDS n
	while [ "${T[stub,served]}" -lt "$SOAK" ] && [ $((SECONDS - t0)) -lt "$SOAK_MAX" ]; do
		wrk -t"$THREADS" -c"$CONNECTIONS" -d10s -s bench/load.lua "http://127.0.0.1:$PORT" -- post >"$OUT/stub-soak.txt"
		n=$(sed -n 's/^RESULT requests=\([0-9]*\).*/\1/p' "$OUT/stub-soak.txt")
		T[stub,served]=$((T[stub,served] + n))
	done
	sleep 1
	T[stub,soakrss]=$(group_rss_kb "$PGID")
	log "stub: RSS $(mb "${T[stub,soakrss]}") after ${T[stub,served]} requests"
}

# --- the report -------------------------------------------------------------
ms() { awk -v u="$1" 'BEGIN { if (u >= 1000) printf "%.1f ms", u / 1000; else printf "%d us", u }'; }
mb() { awk -v k="$1" 'BEGIN { printf "%.1f MB", k / 1024 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }
have() { [ -n "${T[$1,post,rps]:-}" ]; }
diff_us() { awk -v a="${T[$1,$3,cpu]}" -v b="${T[$2,$3,cpu]}" 'BEGIN { printf "%.1f us", a - b }'; }
cpu_ratio() { ratio "${T[$1,$3,cpu]}" "${T[$2,$3,cpu]}"; }

report() {
	local now cpu mem
	now=$(date -u '+%Y-%m-%d %H:%M UTC')
	cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
	mem=$(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)
	{
		echo "# osmstub benchmark results"
		echo
		echo "Run $now by \`make bench\` (bench/bench.sh) on $(nproc) cores ($cpu), $mem,"
		echo "$($GO version | cut -d' ' -f3-), $(uname -sr)$(command -v node >/dev/null && echo ", Node $(node --version)")$(command -v wrk >/dev/null && echo ", $(wrk -v 2>&1 | head -1 | cut -d' ' -f1-2)")."
		echo "Load average at the end: $(cut -d' ' -f1-3 /proc/loadavg) (the machine is shared)."
		echo
		if [ "$LOAD" = 1 ]; then
			echo "## Load: wrk -t$THREADS -c$CONNECTIONS, $DURATION per run after a $WARMUP warm-up ($JIT_WARMUP for WireMock's first), loopback, medians of $ROUNDS interleaved rounds"
			echo
			echo "Requests rotate over ticket pairs of both users with unique bodies (bench/load.lua). post is"
			echo "CreateRelations and DeleteRelation of a pair, alternating; refusal is CreateRelations on a"
			echo "ticket that does not exist (200 with error_code OSM.01010015); get is ListRelation of a"
			echo "ticket with two associations. Every answer is checked: \"bad\" counts wrong statuses, bodies"
			echo "and socket errors. CPU/req is the server's own CPU time (user+system, all its processes)"
			echo "per request over the run. Start to first 200 is the median of $STARTS starts, from the exec"
			echo "to the first 200 of GET ListRelation."
			echo
			echo "| server | post req/s | post p99 | post CPU/req | refusal req/s | refusal p99 | refusal CPU/req | get req/s | get p99 | get CPU/req | bad | start to first 200 | idle RSS | loaded RSS |"
			echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
			local t name m row
			for t in $ALL_TARGETS; do
				have "$t" || continue
				case $t in
				stub-sqlite) name="osm-stub, SQLite store" ;;
				stub-before) name="osm-stub before this change (STUB_BEFORE)" ;;
				stub-before-sqlite) name="osm-stub before, SQLite store" ;;
				floor-hardened) name="floor with osm-stub's http.Server limits" ;;
				stub-lean) name="osm-stub without journal and access log" ;;
				floor-work) name="floor spending $FLOOR_WORK of CPU in every request" ;;
				stub) name="osm-stub (validation, auth, state, journal, access log)" ;;
				floor) name="floor (bare Echo route, constant answer)" ;;
				wiremock) name="WireMock 3.13.2 (generated mappings, JIT warm)" ;;
				prism) name="Prism $(bench/prism/node_modules/.bin/prism --version 2>/dev/null) mock (\`-v silent\`)" ;;
				esac
				row="| $name"
				for m in $MODES; do
					row+=$(printf ' | %.0f | %s | %s us' "${T[$t,$m,rps]}" "$(ms "${T[$t,$m,p99]}")" "${T[$t,$m,cpu]}")
				done
				printf '%s | %d | %s ms | %s | %s |\n' "$row" "${T[$t,bad]}" "${T[$t,start]}" "$(mb "${T[$t,idle]}")" "$(mb "${T[$t,loaded]}")"
			done
			echo
			echo "Every run, req/s and CPU/req (us):"
			echo
			for t in $ALL_TARGETS; do
				have "$t" || continue
				for m in $MODES; do
					echo "- $t $m: ${T[$t,$m,runs]}; ${T[$t,$m,cpuruns]}"
				done
			done
			echo
			if have stub; then
				echo "| target (CPU per request, medians above) | post | refusal | get | limit |"
				echo "|---|---:|---:|---:|---|"
				have floor && echo "| stub / floor | $(cpu_ratio stub floor post) | $(cpu_ratio stub floor refusal) | $(cpu_ratio stub floor get) | <= 3 |"
				have wiremock && echo "| stub / WireMock | $(cpu_ratio stub wiremock post) | $(cpu_ratio stub wiremock refusal) | $(cpu_ratio stub wiremock get) | <= 0.25 (1/4) |"
				have prism && echo "| stub / Prism | $(cpu_ratio stub prism post) | $(cpu_ratio stub prism refusal) | $(cpu_ratio stub prism get) | <= 0.1 (1/10) |"
				echo
				if have floor && have floor-hardened && have stub-lean; then
					echo "What the stub adds to the floor, split by the runs above (CPU per request, differences of medians):"
					echo
					echo "| part | post | refusal | get |"
					echo "|---|---:|---:|---:|"
					echo "| http.Server limits (floor-hardened minus floor) | $(diff_us floor-hardened floor post) | $(diff_us floor-hardened floor refusal) | $(diff_us floor-hardened floor get) |"
					echo "| journal and access log (stub minus stub-lean) | $(diff_us stub stub-lean post) | $(diff_us stub stub-lean refusal) | $(diff_us stub stub-lean get) |"
					echo "| the rest: validation, auth, rules, store, answer (stub-lean minus floor-hardened) | $(diff_us stub-lean floor-hardened post) | $(diff_us stub-lean floor-hardened refusal) | $(diff_us stub-lean floor-hardened get) |"
					echo
				fi
				if have floor && have floor-work; then
					echo "$FLOOR_WORK of CPU spent in every request of the floor (floor-work minus floor) cost $(diff_us floor-work floor post), $(diff_us floor-work floor refusal) and $(diff_us floor-work floor get) per request (post, refusal, get)."
					echo
				fi
				echo "Stub: start to first 200 ${T[stub,start]} ms, the median of $STARTS starts (${T[stub,starts]} ms; target <= 50),"
				echo "idle RSS $(mb "${T[stub,idle]}") (target <= 25 MB), RSS $(mb "${T[stub,soakrss]:-0}") after ${T[stub,served]:-0} requests (target <= 40 MB after 1M)."
				echo
			fi
		fi
		if [ "$GO_BENCH" = 1 ] && [ -f "$OUT/go-bench.txt" ]; then
			echo "## Go benchmarks"
			echo
			echo '```text'
			grep -E '^(goos|goarch|cpu|Benchmark)' "$OUT/go-bench.txt" | awk '!/^(goos|goarch|cpu)/ || !seen[$0]++'
			echo '```'
		fi
	} >"$RESULTS"
	log "wrote $RESULTS"
	cat "$RESULTS"
}

[ "$GO_BENCH" = 1 ] && go_bench
[ "$LOAD" = 1 ] && load_run
report

# A run in which any server gave a bad answer measured nothing useful.
if [ "$LOAD" = 1 ]; then
	for t in $TARGETS; do
		if [ "${T[$t,bad]}" -ne 0 ]; then
			log "$t gave bad answers: see $OUT/$t-*.txt"
			exit 1
		fi
	done
fi
