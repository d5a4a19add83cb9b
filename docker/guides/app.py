# A stand-in for your web app: answers GET on :8000 until SIGTERM, then stops accepting,
# finishes, and exits 0.
import http.server, signal, threading

class Hello(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = b"hello\n"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass

server = http.server.ThreadingHTTPServer(("", 8000), Hello)

def stop(signum, frame):
    print("app: got SIGTERM, finishing", flush=True)
    # shutdown() waits for serve_forever() to return: call it from another thread.
    threading.Thread(target=server.shutdown).start()

signal.signal(signal.SIGTERM, stop)
print("app: serving on :8000", flush=True)
server.serve_forever()
print("app: done", flush=True)
