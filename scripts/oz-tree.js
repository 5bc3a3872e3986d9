// The reference `fieldmint tree` is compared with (docs/performance.md):
// OpenZeppelin's own JavaScript library, CSV of address,amount in, the
// StandardMerkleTree dump out, as `fieldmint tree --in CSV --out DUMP` does.
//
//   node scripts/oz-tree.js leaves.csv dump.json
//
// Resolves @openzeppelin/merkle-tree from schemas/contracts (make deps).
const fs = require("fs");
const path = require("path");
const { StandardMerkleTree } = require(path.join(__dirname, "../schemas/contracts/node_modules/@openzeppelin/merkle-tree"));

const [input, output] = process.argv.slice(2);
if (!input || !output) {
  console.error("usage: node scripts/oz-tree.js leaves.csv dump.json");
  process.exit(2);
}
const lines = fs.readFileSync(input, "utf8").split("\n").filter((l) => l.trim() !== "");
const values = lines.slice(1).map((l) => l.split(","));
const tree = StandardMerkleTree.of(values, ["address", "uint256"]);
fs.writeFileSync(output, JSON.stringify(tree.dump()));
console.log(tree.root);
