// cri-call.js SOCKET METHOD [JSON]: one call of the CRI RuntimeService (runtime-v1.proto beside
// this file) over containerd's unix socket, as kubelet makes it; prints the response as JSON
// (enums by name, 64-bit numbers as strings) and exits 0, or prints "cri: METHOD: <grpc status>"
// on stderr and exits 1. Needs @grpc/grpc-js and @grpc/proto-loader (NODE_PATH).
'use strict';
const path = require('path');
const grpc = require('@grpc/grpc-js');
const loader = require('@grpc/proto-loader');

const [sock, method, json] = process.argv.slice(2);
if (!sock || !method) {
    process.stderr.write('usage: cri-call.js SOCKET METHOD [JSON]\n');
    process.exit(2);
}
const def = loader.loadSync(path.join(__dirname, 'runtime-v1.proto'),
    { keepCase: true, enums: String, longs: String, defaults: true });
const api = grpc.loadPackageDefinition(def).runtime.v1;
const client = new api.RuntimeService('unix://' + sock, grpc.credentials.createInsecure());
const fn = client[method];
if (typeof fn !== 'function') {
    process.stderr.write(`cri: no method ${method}\n`);
    process.exit(2);
}
let req;
try {
    req = json ? JSON.parse(json) : {};
} catch (e) {
    process.stderr.write(`cri: ${method}: the request is not JSON: ${e.message}\n`);
    process.exit(2);
}
fn.call(client, req, { deadline: Date.now() + 120000 }, (err, res) => {
    if (err) {
        process.stderr.write(`cri: ${method}: ${err.details || err.message}\n`);
        process.exit(1);
    }
    process.stdout.write(JSON.stringify(res) + '\n');
    client.close();
});
