# SPDX-License-Identifier: GPL-2.0
"""Python client of shoald, Shoal's supervisor daemon (standard library only).

It speaks the daemon's HTTP/1.1 + JSON API (api/openapi.yaml) over its Unix
socket with http.client, one kept-alive connection per Client, and offers the
verbs of the `shoal` command line tool as methods::

    import shoal
    c = shoal.Client()                      # $SHOAL_SOCKET or /run/shoal/shoald.sock
    inst = c.create(memory_mib=64, labels={"team": "core"})
    for ev in c.exec_stream(inst["id"], ["sh", "-c", "echo hi; echo oops >&2"]):
        print(ev)                           # ExecOutput(stream='stdout', data=b'hi\\n'), ..., ExecExit
    c.rm(inst["id"])

Errors are typed: DaemonUnreachable when nothing answers on the socket, and an
ApiError subclass (NotFound, InvalidRequest, Conflict, TooManyInstances, Unsupported, ...)
carrying the daemon's status, code and message for every error answer.
Unsupported also covers endpoints a daemon does not have yet (404 "no such
route", 405, 501), so callers can tell "upgrade the daemon" from "no such
instance". A Client is not thread-safe: give each thread its own.
"""

import base64
import errno
import http.client
import json
import os
import socket
import urllib.parse

__all__ = [
    "Client", "ShoalError", "DaemonUnreachable", "ProtocolError", "ApiError", "InvalidRequest",
    "NotFound", "PermissionDenied", "Conflict", "TooManyInstances", "Unsupported", "ServerError",
    "Unavailable", "ExecStarted", "ExecOutput", "ExecExit", "ExecResult", "DEFAULT_SOCKET",
]

DEFAULT_SOCKET = "/run/shoal/shoald.sock"
EXEC_DEFAULT_TIMEOUT_S = 60  # the instance's job timeout when none is given
EXEC_MARGIN_S = 30  # how long past it a job's stream may stay silent


class ShoalError(Exception):
    """Base of every error this module raises."""


class DaemonUnreachable(ShoalError):
    """No daemon answers on the socket (missing, not a socket, nobody listening)."""

    def __init__(self, socket_path, reason):
        super().__init__("cannot reach shoald at %s: %s" % (socket_path, reason))
        self.socket_path = socket_path
        self.reason = reason


class ProtocolError(ShoalError):
    """The daemon's answer was not what the API promises (bad JSON, cut stream)."""


class ApiError(ShoalError):
    """The daemon answered with an error: HTTP @status, stable @code, @message."""

    def __init__(self, status, code, message):
        super().__init__("%s: %s (HTTP %d)" % (code, message, status))
        self.status = status
        self.code = code
        self.message = message


class InvalidRequest(ApiError):
    """400/408/413/431: the request was malformed or out of bounds; nothing changed."""


class NotFound(ApiError):
    """404: no such instance (or file)."""


class PermissionDenied(ApiError):
    """403: the instance refused (a file it may not read or write)."""


class Conflict(ApiError):
    """409: not in a state that allows it (not_running) or it exists already."""


class TooManyInstances(ApiError):
    """429: the daemon's instance limit (too_many_instances) or another limit is reached."""


class Unsupported(ApiError):
    """501, 405, or 404 "no such route": this daemon does not offer that endpoint."""


class ServerError(ApiError):
    """500, 502, 504: the daemon or the instance failed (boot_failed, instance_error, timeout)."""


class Unavailable(ApiError):
    """503: the daemon is shutting down or has too many connections."""


def _error_class(status, code, message):
    if status == 501 or status == 405 or (status == 404 and message.startswith("no such route")):
        return Unsupported
    if status == 404:
        return NotFound
    if status == 403:
        return PermissionDenied
    if status == 409:
        return Conflict
    if status == 429:
        return TooManyInstances
    if status == 503:
        return Unavailable
    if status >= 500:
        return ServerError
    return InvalidRequest


class ExecOutput:
    """A chunk of a job's output: @stream is "stdout" or "stderr", @data bytes."""
    __slots__ = ("stream", "data")

    def __init__(self, stream, data):
        self.stream = stream
        self.data = data

    def __repr__(self):
        return "ExecOutput(stream=%r, data=%r)" % (self.stream, self.data)


class ExecStarted:
    """The job started: @exec_id (for exec_signal) and the instance's @job id."""
    __slots__ = ("exec_id", "job")

    def __init__(self, event):
        self.exec_id = event.get("exec_id")
        self.job = event.get("job")

    def __repr__(self):
        return "ExecStarted(exec_id=%r, job=%r)" % (self.exec_id, self.job)


class ExecExit:
    """The end of a job: @exit_code, or @signal when one killed it; @event is the raw event."""
    __slots__ = ("exit_code", "signal", "timed_out", "event")

    def __init__(self, event):
        self.event = event
        self.exit_code = event.get("exit_code")
        self.signal = event.get("signal")
        self.timed_out = bool(event.get("timed_out"))

    @property
    def status(self):
        """The status a shell would report: the exit code, or 128 + signal."""
        return self.exit_code if self.exit_code is not None else 128 + (self.signal or 0)

    def __repr__(self):
        return "ExecExit(exit_code=%r, signal=%r)" % (self.exit_code, self.signal)


class ExecResult:
    """A whole job: @stdout and @stderr bytes, @exit (ExecExit), @status."""

    def __init__(self, stdout, stderr, exit):
        self.stdout = stdout
        self.stderr = stderr
        self.exit = exit

    @property
    def status(self):
        return self.exit.status

    def __repr__(self):
        return "ExecResult(status=%r, stdout=%r, stderr=%r)" % (
            self.status, self.stdout[:80], self.stderr[:80])


class _UnixConnection(http.client.HTTPConnection):
    """http.client over an AF_UNIX stream socket; the Host header is nominal."""

    def __init__(self, path, timeout):
        super().__init__("shoald", timeout=timeout)
        self.unix_path = path

    def connect(self):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        try:
            sock.connect(self.unix_path)
        except OSError:
            sock.close()
            raise
        self.sock = sock


def _unreachable(path, e):
    if isinstance(e, FileNotFoundError):
        why = "no such socket (is the daemon running?)"
    elif getattr(e, "errno", None) == errno.ENOTSOCK or (
            os.path.exists(path) and not _is_socket(path)):
        why = "not a socket"
    elif isinstance(e, ConnectionRefusedError):
        why = "nothing listens there (is the daemon running?)"
    else:
        why = str(e)
    return DaemonUnreachable(path, why)


def _is_socket(path):
    import stat
    try:
        return stat.S_ISSOCK(os.stat(path).st_mode)
    except OSError:
        return False


class Client:
    """A client of one daemon. @socket_path: default $SHOAL_SOCKET, else DEFAULT_SOCKET.
    @timeout bounds each buffered call (seconds); streams wait as long as they flow."""

    def __init__(self, socket_path=None, timeout=120.0):
        self.socket_path = socket_path or os.environ.get("SHOAL_SOCKET") or DEFAULT_SOCKET
        self.timeout = timeout
        self._conn = None

    def close(self):
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # ---- transport

    def _send(self, method, path, body=None, content_type="application/json", timeout=None,
              stream=False):
        """Send one request and return the HTTPResponse with its status checked.
        A kept-alive connection the daemon closed is retried once on a new one,
        but only for requests that change nothing (GET), as a retried POST
        could create twice. A stream gets a connection of its own (closed when
        the stream ends), so the Client stays usable meanwhile: exec_signal()
        to a job whose output is being read, for one."""
        headers = {"Host": "shoald"}
        if body is not None:
            headers["Content-Type"] = content_type
        for attempt in (0, 1):
            if stream:
                # Streams wait as long as they flow, unless the caller bounds the wait.
                conn = _UnixConnection(self.socket_path, timeout)
            else:
                if self._conn is None:
                    self._conn = _UnixConnection(self.socket_path, self.timeout)
                conn = self._conn
                conn.timeout = timeout or self.timeout
            fresh = conn.sock is None
            try:
                if fresh:
                    conn.connect()
                else:
                    conn.sock.settimeout(conn.timeout)
                conn.request(method, path, body=body, headers=headers)
                resp = conn.getresponse()
                break
            except (FileNotFoundError, ConnectionRefusedError, NotADirectoryError) as e:
                self._drop(conn)
                raise _unreachable(self.socket_path, e) from None
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError) as e:
                self._drop(conn)
                if fresh or attempt or method != "GET":
                    raise ProtocolError("shoald closed the connection: %s" % e) from None
            except socket.timeout:
                self._drop(conn)
                raise ShoalError("shoald at %s did not answer in time" % self.socket_path) \
                    from None
            except OSError as e:
                self._drop(conn)
                if fresh:
                    raise _unreachable(self.socket_path, e) from None
                raise
        if not 200 <= resp.status < 300:
            data = resp.read()
            if resp.will_close or stream:
                self._drop(conn)
            raise self._api_error(resp.status, data)
        if stream:
            resp.shoal_conn = conn  # closed by _lines when the stream ends
        return resp

    def _drop(self, conn):
        conn.close()
        if conn is self._conn:
            self._conn = None

    @staticmethod
    def _api_error(status, data):
        code, message = "http_%d" % status, data.decode("utf-8", "replace")[:200]
        try:
            err = json.loads(data)["error"]
            code, message = err["code"], err["message"]
        except (ValueError, KeyError, TypeError):
            pass
        return _error_class(status, code, message)(status, code, message)

    def _json(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        resp = self._send(method, path, data)
        raw = resp.read()
        if resp.will_close:
            self.close()
        if not raw:
            return None
        try:
            return json.loads(raw)
        except ValueError as e:
            raise ProtocolError("bad JSON from %s %s: %s" % (method, path, e)) from None

    def _lines(self, resp):
        """The lines of a streamed answer, parsed as JSON, as they arrive."""
        try:
            while True:
                try:
                    line = resp.readline()
                except socket.timeout:
                    raise ShoalError("shoald at %s stopped answering mid-stream" %
                                     self.socket_path) from None
                if not line:
                    return
                line = line.strip()
                if not line:
                    continue
                try:
                    yield json.loads(line)
                except ValueError as e:
                    raise ProtocolError("bad event line %r: %s" % (line[:100], e)) from None
        finally:
            # The stream's own connection ends with it, read to the end or abandoned.
            resp.shoal_conn.close()

    @staticmethod
    def _id_path(iid, suffix=""):
        if not isinstance(iid, str) or "/" in iid or not iid:
            raise ValueError("not an instance id: %r" % (iid,))
        return "/v1/instances/" + urllib.parse.quote(iid, safe="") + suffix

    # ---- the daemon

    def health(self):
        """{"status": "ok"} while the daemon serves."""
        return self._json("GET", "/v1/health")

    def version(self):
        """{"version", "api", "protocol"} of the daemon."""
        return self._json("GET", "/v1/version")

    def metrics(self):
        """The Prometheus text of GET /metrics (Unsupported on daemons without it)."""
        resp = self._send("GET", "/metrics")
        return resp.read().decode()

    def events(self, after=None, follow=True):
        """Iterator over the daemon's lifecycle events (dicts with seq, time_ms,
        type, instance_id, data): those stored after sequence number @after
        (default: all), then, with @follow, new ones as they happen."""
        query = []
        if after is not None:
            query.append(("after", str(int(after))))
        if not follow:
            query.append(("follow", "false"))
        path = "/v1/events" + ("?" + urllib.parse.urlencode(query) if query else "")
        return self._lines(self._send("GET", path, stream=True))

    # ---- instances

    def create(self, memory_mib=None, labels=None, ttl_s=None, network=False, env=None,
               disks=None, **extra):
        """Create an instance and wait until it runs; returns it (dict). @env:
        dict or "NAME=value" list for every job; @disks: [{"image", "mount_point",
        "read_only"}]. Fields the daemon gains later can be passed as keywords."""
        body = {"network": bool(network)}
        if env:
            body["env"] = ["%s=%s" % kv for kv in env.items()] if isinstance(env, dict) \
                else list(env)
        if disks:
            body["disks"] = list(disks)
        if memory_mib is not None:
            body["memory_mib"] = memory_mib
        if labels:
            body["labels"] = dict(labels)
        if ttl_s is not None:
            body["ttl_s"] = ttl_s
        body.update(extra)
        return self._json("POST", "/v1/instances", body)

    def list(self, state=None, labels=None, all=True):
        """Instances in creation order, filtered by @state and @labels (dict or
        "k=v" strings; all must match). all=False keeps only alive ones."""
        query = []
        if state:
            query.append(("state", state))
        if isinstance(labels, dict):
            labels = ["%s=%s" % kv for kv in labels.items()]
        for lab in labels or ():
            query.append(("label", lab))
        path = "/v1/instances" + ("?" + urllib.parse.urlencode(query) if query else "")
        got = self._json("GET", path)["instances"]
        if not all:
            got = [i for i in got if i["state"] in ("starting", "running", "stopping")]
        return got

    ls = list

    def list_page(self, limit, after=None, state=None, labels=None):
        """One page of the list: (instances, next), next being the @after of the
        following page or None on the last."""
        query = [("limit", str(int(limit)))]
        if after:
            query.append(("after", after))
        if state:
            query.append(("state", state))
        if isinstance(labels, dict):
            labels = ["%s=%s" % kv for kv in labels.items()]
        for lab in labels or ():
            query.append(("label", lab))
        got = self._json("GET", "/v1/instances?" + urllib.parse.urlencode(query))
        return got["instances"], got.get("next")

    def get(self, iid):
        """One instance, alive or ended (NotFound if the daemon never knew it)."""
        return self._json("GET", self._id_path(iid))

    inspect = get

    def delete(self, iid):
        """Destroy one instance; returns its final row (state destroyed)."""
        return self._json("DELETE", self._id_path(iid))

    def rm(self, *iids, all=False, labels=None):
        """Destroy instances: the given ids, or every alive one (all=True), or every
        alive one with @labels. Returns the final rows. Every id is tried; the
        first error is raised after the others are done."""
        if iids and (all or labels):
            raise ValueError("give ids or all/labels, not both")
        if all or labels:
            iids = [i["id"] for i in self.list(labels=labels, all=False)]
        done, first_error = [], None
        for iid in iids:
            try:
                done.append(self.delete(iid))
            except ApiError as e:
                first_error = first_error or e
        if first_error:
            raise first_error
        return done

    def stats(self, iid):
        """The instance's own view of itself (uptime, kernel memory, interfaces...)."""
        return self._json("GET", self._id_path(iid, "/stats"))

    def patch(self, iid, **fields):
        """Change an instance's ttl_s or labels (Unsupported on daemons without PATCH)."""
        return self._json("PATCH", self._id_path(iid), fields)

    # ---- jobs

    @staticmethod
    def _exec_body(argv, env, cwd, stdin, timeout_s):
        if isinstance(argv, str) or not argv:
            raise ValueError("argv must be a non-empty list of strings")
        body = {"argv": list(argv)}
        if env is not None:
            body["env"] = ["%s=%s" % kv for kv in env.items()] if isinstance(env, dict) \
                else list(env)
        if cwd is not None:
            body["cwd"] = cwd
        if stdin is not None:
            if isinstance(stdin, str):
                stdin = stdin.encode()
            body["stdin"] = base64.b64encode(stdin).decode()
        if timeout_s is not None:
            body["timeout_ms"] = int(timeout_s * 1000)
        return body

    @staticmethod
    def _decode(data):
        try:
            return base64.b64decode(data, validate=True)
        except ValueError:
            return data.encode()

    def exec_stream(self, iid, argv, env=None, cwd=None, stdin=None, timeout_s=None):
        """Run @argv in instance @iid; yields ExecStarted once it runs, ExecOutput
        chunks as the job writes them, then one ExecExit. @stdin: bytes for the job."""
        body = json.dumps(self._exec_body(argv, env, cwd, stdin, timeout_s)).encode()
        # The instance kills the job at its timeout (default 60 s) and the daemon
        # then ends the stream: a silence much longer than that is a stuck daemon.
        wait = (timeout_s or EXEC_DEFAULT_TIMEOUT_S) + EXEC_MARGIN_S
        resp = self._send("POST", self._id_path(iid, "/exec?stream=true"), body, stream=True,
                          timeout=wait)
        ended = False
        for ev in self._lines(resp):
            if "error" in ev:
                err = ev["error"] if isinstance(ev["error"], dict) else {"message": ev["error"]}
                raise ServerError(500, err.get("code", "exec_failed"), err.get("message", ""))
            stream = ev.get("stream")
            if stream in ("stdout", "stderr") and "data" in ev:
                yield ExecOutput(stream, self._decode(ev["data"]))
            elif stream is None and ("stdout" in ev or "stderr" in ev):
                # The buffered shape, if the daemon chose it.
                for name in ("stdout", "stderr"):
                    if ev.get(name):
                        yield ExecOutput(name, self._decode(ev[name]))
            if "exit_code" in ev or "signal" in ev:
                ended = True
                yield ExecExit(ev)
            elif "exec_id" in ev and stream is None and "stdout" not in ev:
                yield ExecStarted(ev)
        if not ended:
            raise ProtocolError("the exec stream ended without the job's exit status")

    def exec_signal(self, iid, exec_id, signal=15, group=True):
        """Send @signal to a running job (the exec_id of its ExecStarted event,
        or of exec_stream's .exec_id); its end is reported by its exec as always."""
        return self._json("POST", self._id_path(iid, "/exec/signal"),
                          {"exec_id": int(exec_id), "signal": int(signal), "group": bool(group)})

    def execs(self, iid):
        """The exec records of an instance (argv, exit, durations, byte counts), oldest first."""
        return self._json("GET", self._id_path(iid, "/execs"))["execs"]

    def exec(self, iid, argv, env=None, cwd=None, stdin=None, timeout_s=None):
        """Run @argv in instance @iid to its end; returns an ExecResult."""
        out, err, end = [], [], None
        for ev in self.exec_stream(iid, argv, env, cwd, stdin, timeout_s):
            if isinstance(ev, ExecOutput):
                (out if ev.stream == "stdout" else err).append(ev.data)
            elif isinstance(ev, ExecExit):
                end = ev
        return ExecResult(b"".join(out), b"".join(err), end)

    def run(self, argv=None, rm=False, env=None, cwd=None, stdin=None, timeout_s=None,
            **create):
        """Create an instance, optionally run @argv in it, optionally destroy it
        after (also when the job failed). Returns (instance, ExecResult or None)."""
        inst = self.create(**create)
        try:
            result = self.exec(inst["id"], argv, env, cwd, stdin, timeout_s) if argv else None
        finally:
            if rm:
                self.delete(inst["id"])
        return inst, result

    # ---- files and console

    def put_file(self, iid, path, data):
        """Write @data (bytes) to @path in the instance."""
        q = "/files?" + urllib.parse.urlencode({"path": path})
        resp = self._send("PUT", self._id_path(iid, q), bytes(data), "application/octet-stream")
        raw = resp.read()
        if resp.will_close:
            self.close()
        return json.loads(raw) if raw else None

    def get_file(self, iid, path):
        """The bytes of @path in the instance."""
        q = "/files?" + urllib.parse.urlencode({"path": path})
        resp = self._send("GET", self._id_path(iid, q))
        data = resp.read()
        if resp.will_close:
            self.close()
        return data

    def copy_to(self, iid, host_path, path):
        """Copy a host file into the instance."""
        with open(host_path, "rb") as f:
            return self.put_file(iid, path, f.read())

    def copy_from(self, iid, path, host_path):
        """Copy an instance file to the host (written whole, then renamed into place)."""
        data = self.get_file(iid, path)
        tmp = "%s.shoal-%d" % (host_path, os.getpid())
        with open(tmp, "wb") as f:
            f.write(data)
        os.replace(tmp, host_path)
        return len(data)

    def logs_page(self, iid, cursor=0, max_bytes=32768):
        """One piece of the instance's kernel console: {"text", "cursor", "lost"};
        pass the answer's cursor to read on."""
        q = "/logs?" + urllib.parse.urlencode({"cursor": cursor, "max_bytes": max_bytes})
        return self._json("GET", self._id_path(iid, q))

    def logs(self, iid):
        """The instance's kernel console since boot (as far as its ring still holds it)."""
        parts, cursor = [], 0
        while True:
            page = self.logs_page(iid, cursor)
            parts.append(page["text"])
            if not page["text"] and page["cursor"] == cursor:
                return "".join(parts)
            cursor = page["cursor"]
