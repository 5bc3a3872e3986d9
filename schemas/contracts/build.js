// Compiles src/*.sol with the pinned solc-js and writes out/<Name>.abi and
// out/<Name>.bin. Usage (from schemas/contracts): node build.js [outdir]
// Standard-JSON input fixes every setting, so the output is reproducible.
const fs = require("fs");
const path = require("path");
const solc = require("solc");

const outDir = process.argv[2] || "out";
const contracts = ["RewardToken", "RewardsDistributor"];
const sources = {};
for (const name of contracts) {
  sources[`src/${name}.sol`] = { content: fs.readFileSync(path.join("src", `${name}.sol`), "utf8") };
}
const input = {
  language: "Solidity",
  sources,
  settings: {
    optimizer: { enabled: true, runs: 10000 },
    evmVersion: "cancun",
    outputSelection: { "*": { "*": ["abi", "evm.bytecode.object"] } },
  },
};
function findImports(p) {
  for (const base of ["node_modules", "."]) {
    const full = path.join(base, p);
    if (fs.existsSync(full)) return { contents: fs.readFileSync(full, "utf8") };
  }
  return { error: `not found: ${p}` };
}
const output = JSON.parse(solc.compile(JSON.stringify(input), { import: findImports }));
const errors = (output.errors || []).filter((e) => e.severity === "error");
for (const e of output.errors || []) console.error(e.formattedMessage);
if (errors.length) process.exit(1);
fs.mkdirSync(outDir, { recursive: true });
for (const name of contracts) {
  const c = output.contracts[`src/${name}.sol`][name];
  fs.writeFileSync(path.join(outDir, `${name}.abi`), JSON.stringify(c.abi, null, 2) + "\n");
  fs.writeFileSync(path.join(outDir, `${name}.bin`), c.evm.bytecode.object + "\n");
}
console.log(`solc ${solc.version()}: wrote ${contracts.length} contracts to ${outDir}`);
