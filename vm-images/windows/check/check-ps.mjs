// check-ps.mjs MODULES_DIR FILE...: parse PowerShell scripts with the
// tree-sitter PowerShell grammar (npm tree-sitter-powershell, installed
// into MODULES_DIR by `make check-lab`) and fail on any ERROR or MISSING
// node, printing its line and column.  This is a grammar check, not
// PowerShell's own parser: it catches unbalanced braces, unterminated
// strings and here-strings, broken param blocks and statements, plus
// one rule the grammar misses ("$name:" inside a double-quoted string),
// but not unknown cmdlets, parameters or types, and the grammar may accept or
// refuse a few constructs differently from powershell.exe.
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import path from 'node:path';

const [dir, ...files] = process.argv.slice(2);
if (!dir || files.length === 0) {
	console.error('usage: check-ps.mjs MODULES_DIR FILE...');
	process.exit(2);
}
const req = createRequire(path.join(path.resolve(dir), 'package.json'));
const load = async (name) => (await import(pathToFileURL(req.resolve(name)).href)).default;
const Parser = await load('tree-sitter');
const PowerShell = await load('tree-sitter-powershell');
const parser = new Parser();
parser.setLanguage(PowerShell);

let bad = 0;
for (const f of files) {
	// tree-sitter's node binding wants the text in chunks < 32 KiB
	const src = readFileSync(f, 'utf8').replace(/^\uFEFF/, '');
	const tree = parser.parse((i) => src.slice(i, i + 8192));
	const errs = [];
	const at = (n) => `${f}:${n.startPosition.row + 1}:${n.startPosition.column + 1}`;
	const walk = (n) => {
		if (n.isMissing) errs.push(`${at(n)}: missing ${n.type}`);
		else if (n.type === 'ERROR')
			errs.push(`${at(n)}: syntax error near: ${src.slice(n.startIndex, n.startIndex + 60).split('\n')[0]}`);
		// powershell.exe refuses "$name: ..." in an expandable string (it
		// reads a drive-qualified variable with no name); the grammar
		// accepts it, so it is checked here: write "${name}:"
		else if (n.type === 'variable' && /expandable/.test(n.parent.type) && src[n.endIndex] === ':' && !src.startsWith('${', n.startIndex))
			errs.push(`${at(n)}: "${src.slice(n.startIndex, n.endIndex)}:" in a string is a PowerShell parse error; write "\${${src.slice(n.startIndex + 1, n.endIndex)}}:"`);
		for (const c of n.children) walk(c);
	};
	walk(tree.rootNode);
	if (errs.length) {
		bad++;
		for (const e of errs.slice(0, 10)) console.log(e);
	} else console.log(`ok: ${f}`);
}
process.exit(bad ? 1 : 0);
