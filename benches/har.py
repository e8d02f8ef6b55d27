#!/usr/bin/env python3
"""Writes a large HAR for the capture benchmark (benches/har.sh): SignalR
connections with long-polling bodies and WebSocket frames, padded with
static-asset entries whose base64 bodies make up most of the size, as
"Save all as HAR with content" exports do. Usage: har.py SIZE_MB OUT"""
import base64, json, os, sys

size = int(sys.argv[1]) * 1024 * 1024
out = open(sys.argv[2], "w")
blob = base64.b64encode(os.urandom(48 * 1024)).decode()
svc = "contoso.service.signalr.net"
out.write('{"log": {"version": "1.2", "creator": {"name": "WebInspector", "version": "537.36"}, "entries": [\n')
n = written = 0
first = True
while written < size:
    t = "2024-01-15T08:%02d:%02d.%03dZ" % (n // 60000 % 60, n // 1000 % 60, n % 1000)
    if n % 10 == 0:
        e = {"startedDateTime": t, "time": 12.5, "request": {"method": "GET",
             "url": f"wss://{svc}/client/?hub=chat&id=tok{n}", "headers": []},
             "response": {"status": 101, "statusText": "Switching Protocols", "content": {"size": 0}},
             "_webSocketMessages": [{"type": "receive", "time": 1705307405 + n / 1000, "opcode": 1,
                                     "data": '{"type":1,"target":"send","arguments":["%s"]}\u001e' % ("x" * 200)}] * 20}
    else:
        e = {"startedDateTime": t, "time": 3.0, "request": {"method": "GET",
             "url": f"https://contoso-app.azurewebsites.net/static/{n}.png", "headers": []},
             "response": {"status": 200, "statusText": "OK",
                          "content": {"size": len(blob), "mimeType": "image/png", "encoding": "base64", "text": blob}}}
    s = ("" if first else ",\n") + json.dumps(e)
    first = False
    out.write(s)
    written += len(s)
    n += 1
out.write("\n]}}\n")
