#!/usr/bin/env bash
# A throwaway Apache Spark cluster on loopback for the tests, the benchmark and for trying the
# Spark engine (ADR 0014): a master, two workers (1 core, 1 GiB each) and a Spark Connect server.
#
#   tools/spark/cluster.sh start DIR   start it, with logs, pids and work folders under DIR (a new
#                                      folder), on free loopback ports; waits until both workers
#                                      have an executor of the Connect server's application, then
#                                      prints `export HEARKEN_SPARK=sc://127.0.0.1:PORT` and the UIs
#   tools/spark/cluster.sh stop DIR    stop every process it started, each by its recorded pid
#                                      (then the executors the workers started), DIR can be removed
#   tools/spark/cluster.sh kill-worker DIR N
#                                      lose worker N (1 or 2) as a machine is lost: SIGKILL to the
#                                      worker and to the executors running in its folder, each by
#                                      its pid (for the tests of a worker lost mid-query)
#
# Environment for `start` (the defaults are the tests'): HEARKEN_SPARK_WORKERS (1 or 2, default
# 2), HEARKEN_SPARK_WORKER_MEMORY (1g), HEARKEN_SPARK_EXECUTOR_MEMORY (512m; at most the worker's).
#
# Needs Java 17 (Debian: apt-get install openjdk-17-jre-headless) and python3 with venv. PySpark
# comes from PyPI (pinned below; it carries Spark's jars) into a virtualenv, by default
# .venv-spark at the top of the repository (git-ignored), or $HEARKEN_SPARK_VENV.
set -euo pipefail

PYSPARK_VERSION=4.3.0
cmd=${1:-}; dir=${2:-}
if [ -z "$cmd" ] || [ -z "$dir" ]; then
  echo "usage: $0 start|stop DIR | kill-worker DIR N" >&2; exit 2
fi
workers=${HEARKEN_SPARK_WORKERS:-2}
worker_memory=${HEARKEN_SPARK_WORKER_MEMORY:-1g}
executor_memory=${HEARKEN_SPARK_EXECUTOR_MEMORY:-512m}
case "$workers" in 1|2) ;; *) echo "error: HEARKEN_SPARK_WORKERS must be 1 or 2, not $workers" >&2; exit 2 ;; esac
repo=$(cd "$(dirname "$0")/../.." && pwd)
venv=${HEARKEN_SPARK_VENV:-$repo/.venv-spark}

# Stops one recorded process by its pid: TERM, up to 20 s, then KILL.
stop_pid() {
  local file=$1 pid
  [ -f "$file" ] || return 0
  pid=$(cat "$file")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    if kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid" 2>/dev/null || true; fi
  fi
  rm -f "$file"
}

case "$cmd" in
  start)
    if ! command -v java >/dev/null; then
      echo "error: Java is not installed: apt-get install -y openjdk-17-jre-headless" >&2; exit 1
    fi
    if [ -e "$dir" ] && [ -n "$(ls -A "$dir" 2>/dev/null)" ]; then
      echo "error: $dir is not empty: give a new folder" >&2; exit 1
    fi
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c "import pyspark, sys; sys.exit(pyspark.__version__ != '$PYSPARK_VERSION')" 2>/dev/null; then
      python3 -m venv "$venv"
      "$venv/bin/pip" install -q "pyspark==$PYSPARK_VERSION" >&2
    fi
    spark_home=$("$venv/bin/python" -c "import os, pyspark; print(os.path.dirname(pyspark.__file__))")
    # Seven distinct free loopback ports, each taken from the kernel (bind to port 0).
    read -r p_master p_master_ui p_w1 p_w1_ui p_w2 p_w2_ui p_connect p_ui < <(python3 - <<'EOF'
import socket
socks = []
for _ in range(8):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))
EOF
)
    export SPARK_HOME=$spark_home SPARK_LOG_DIR=$dir/logs SPARK_PID_DIR=$dir \
      SPARK_LOCAL_IP=127.0.0.1 SPARK_LOCAL_DIRS=$dir/local SPARK_NO_DAEMONIZE=1 \
      SPARK_CONF_DIR=$dir/conf
    mkdir -p "$dir/logs" "$dir/local" "$dir/conf"
    # Local-only: no history, no event log, small heaps.
    printf 'spark.ui.showConsoleProgress false\n' >"$dir/conf/spark-defaults.conf"
    started=$(date +%s.%N)
    "$spark_home/bin/spark-class" org.apache.spark.deploy.master.Master --host 127.0.0.1 \
      --port "$p_master" --webui-port "$p_master_ui" >"$dir/logs/master.log" 2>&1 &
    echo $! >"$dir/master.pid"
    master=spark://127.0.0.1:$p_master
    for i in $(seq "$workers"); do
      port_var=p_w$i; ui_var=p_w${i}_ui
      mkdir -p "$dir/work-$i"
      SPARK_WORKER_DIR=$dir/work-$i "$spark_home/bin/spark-class" \
        org.apache.spark.deploy.worker.Worker --host 127.0.0.1 --port "${!port_var}" \
        --webui-port "${!ui_var}" --cores 1 --memory "$worker_memory" --work-dir "$dir/work-$i" "$master" \
        >"$dir/logs/worker-$i.log" 2>&1 &
      echo $! >"$dir/worker-$i.pid"
    done
    # Wait for both workers to register with the master.
    ok=""
    for _ in $(seq 300); do
      if curl -fsS "http://127.0.0.1:$p_master_ui/json/" 2>/dev/null | grep -q "\"aliveworkers\" *: *$workers"; then ok=1; break; fi
      sleep 0.2
    done
    if [ -z "$ok" ]; then
      echo "error: the $workers worker(s) did not register with the master in 60 s; see $dir/logs" >&2
      "$0" stop "$dir"; exit 1
    fi
    "$spark_home/bin/spark-submit" --class org.apache.spark.sql.connect.service.SparkConnectServer \
      --name "Hearken Spark Connect" --master "$master" \
      --conf spark.driver.host=127.0.0.1 --conf spark.driver.bindAddress=127.0.0.1 \
      --conf spark.driver.memory=1g --conf spark.executor.memory="$executor_memory" \
      --conf spark.executor.cores=1 --conf spark.cores.max="$workers" \
      --conf spark.sql.shuffle.partitions=4 --conf spark.ui.port="$p_ui" \
      --conf spark.connect.grpc.binding.address=127.0.0.1 \
      --conf spark.connect.grpc.binding.port="$p_connect" \
      --conf spark.sql.session.timeZone=UTC \
      >"$dir/logs/connect.log" 2>&1 &
    echo $! >"$dir/connect.pid"
    # Ready when the Connect server's application has an executor on each worker.
    ok=""
    for _ in $(seq 600); do
      if app=$(curl -fsS "http://127.0.0.1:$p_ui/api/v1/applications" 2>/dev/null |
               python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["id"])' 2>/dev/null) &&
         n=$(curl -fsS "http://127.0.0.1:$p_ui/api/v1/applications/$app/executors" 2>/dev/null |
             python3 -c 'import json,sys; print(sum(1 for e in json.load(sys.stdin) if e["id"] != "driver" and e["isActive"]))' 2>/dev/null) &&
         [ "$n" = "$workers" ] && (exec 3<>"/dev/tcp/127.0.0.1/$p_connect") 2>/dev/null; then
        ok=1; break
      fi
      if ! kill -0 "$(cat "$dir/connect.pid")" 2>/dev/null; then break; fi
      sleep 0.2
    done
    if [ -z "$ok" ]; then
      echo "error: the Spark Connect server did not come up with $workers executor(s) in 120 s; see $dir/logs/connect.log" >&2
      "$0" stop "$dir"; exit 1
    fi
    echo "$p_ui" >"$dir/ui.port"
    echo "# started in $(python3 -c "print(round($(date +%s.%N) - $started, 1))") s" >&2
    echo "export HEARKEN_SPARK=sc://127.0.0.1:$p_connect"
    echo "export HEARKEN_SPARK_UI=http://127.0.0.1:$p_ui"
    echo "export HEARKEN_SPARK_MASTER_UI=http://127.0.0.1:$p_master_ui"
    ;;
  stop)
    if [ ! -d "$dir" ]; then echo "error: no cluster folder $dir" >&2; exit 1; fi
    dir=$(cd "$dir" && pwd)
    # The Connect server first (its application ends, the workers stop its executors), then the
    # workers, then the master.
    stop_pid "$dir/connect.pid"
    stop_pid "$dir/worker-1.pid"
    stop_pid "$dir/worker-2.pid"
    stop_pid "$dir/master.pid"
    # An executor a worker could not stop runs in the worker's folder under DIR: stop it by pid.
    # (An executor's working folder is DIR/work-N/APP/ID.)
    for proc in /proc/[0-9]*; do
      cwd=$(readlink "$proc/cwd" 2>/dev/null || true)
      case "$cwd" in
        "$dir"/work-*) echo "${proc#/proc/}" >"$dir/leftover.pid"; stop_pid "$dir/leftover.pid" ;;
      esac
    done
    ;;
  kill-worker)
    n=${3:-}
    case "$n" in 1|2) ;; *) echo "usage: $0 kill-worker DIR 1|2" >&2; exit 2 ;; esac
    dir=$(cd "$dir" && pwd)
    if [ ! -f "$dir/worker-$n.pid" ]; then echo "error: no worker $n in $dir" >&2; exit 1; fi
    pid=$(cat "$dir/worker-$n.pid")
    kill -KILL "$pid" 2>/dev/null || true
    rm -f "$dir/worker-$n.pid"
    # Its executors (working folder DIR/work-N/APP/ID), each by its pid.
    for proc in /proc/[0-9]*; do
      cwd=$(readlink "$proc/cwd" 2>/dev/null || true)
      case "$cwd" in
        "$dir/work-$n"/*) kill -KILL "${proc#/proc/}" 2>/dev/null || true ;;
      esac
    done
    ;;
  *) echo "usage: $0 start|stop DIR | kill-worker DIR N" >&2; exit 2 ;;
esac
