"""The far end of the VMM's uplink in Bochs: servers on this machine's loopback only, which
Bochs' slirp backend shows a guest as 10.0.2.2 (slirp's network is 10.0.2.0/24). Nothing here
listens on any other address, so no test traffic leaves the machine."""
import hashlib, os, re, shutil, socket, subprocess, sys, tempfile, threading

SLIRP_HOST = "10.0.2.2"
GUEST_IP = "10.0.2.15/24"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LoopbackHttp:
    """python3 -m http.server on 127.0.0.1, serving `data` as /get.bin."""

    def __init__(self, data):
        self.data = data

    def __enter__(self):
        self.dir = tempfile.mkdtemp(prefix="mv-uplink.")
        with open(os.path.join(self.dir, "get.bin"), "wb") as f:
            f.write(self.data)
        self.port = free_port()
        self.url = f"http://{SLIRP_HOST}:{self.port}/get.bin"
        self.log = open(os.path.join(self.dir, "http.log"), "w+")
        self.proc = subprocess.Popen([sys.executable, "-m", "http.server", "--bind", "127.0.0.1",
                                      "--directory", self.dir, str(self.port)],
                                     stdout=self.log, stderr=subprocess.STDOUT)
        return self

    def requests(self):
        """[(client address, status)] of the GETs of /get.bin it served."""
        self.log.flush()
        with open(self.log.name) as f:
            return re.findall(r'^(\S+) .*"GET /get\.bin HTTP/1\.\d" (\d+)', f.read(), re.M)

    def __exit__(self, *exc):
        self.proc.terminate()
        self.proc.wait(10)
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


class LoopbackSink:
    """A TCP listener on 127.0.0.1 that takes one connection, reads it to its end (the
    sender's half-close) and closes: what arrived, its SHA-256 and who sent it."""

    def __enter__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(1)
        self.port = self.sock.getsockname()[1]
        self.addr = f"{SLIRP_HOST}:{self.port}"
        self.peer, self.received, self.sha256 = None, 0, None
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()
        return self

    def _serve(self):
        try:
            conn, peer = self.sock.accept()
        except OSError:
            return                          # closed before anyone came
        h = hashlib.sha256()
        with conn:
            while True:
                b = conn.recv(65536)
                if not b:
                    break
                h.update(b)
                self.received += len(b)
        self.peer, self.sha256 = peer[0], h.hexdigest()

    def __exit__(self, *exc):
        self.sock.close()
        self.thread.join(5)
