// The webhook receiver of test/e2e/events.test.ts (node, no packages): records every request it gets
// (path, headers, body) as one JSON line in /tmp/received.jsonl and answers 200 on /ok and /all, 500 on
// /fail. GET /mode/down makes /ok answer 500 too (an endpoint that is down), GET /mode/up brings it back.
const http = require("http");
const fs = require("fs");
let down = false;
http.createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
        if (req.url === "/mode/down" || req.url === "/mode/up") {
            down = req.url === "/mode/down";
            res.end(`${down ? "down" : "up"}\n`);
            return;
        }
        const failing = req.url.startsWith("/fail") || (down && req.url.startsWith("/ok"));
        fs.appendFileSync(
            "/tmp/received.jsonl",
            JSON.stringify({ time: new Date().toISOString(), path: req.url, headers: req.headers, body, answered: failing ? 500 : 200 }) + "\n",
        );
        res.statusCode = failing ? 500 : 200;
        res.end(failing ? "failing\n" : "ok\n");
    });
}).listen(8080);
