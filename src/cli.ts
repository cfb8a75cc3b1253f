/**
 * The entry point. A bare `--version` or `--help` is answered from the schema alone; everything
 * else loads the tool (main.ts, bundled as one file: see scripts/build.mjs), which parses the
 * whole command line, `--version` and `--help` among other flags included.
 */
const argv = process.argv.slice(2);
// The tool needs Node's util.styleText (20.12): an older Node would die on a SyntaxError deep in an import.
const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
if (major < 20 || (major === 20 && minor < 12)) {
  process.stderr.write(`error: create-secrets-sandbox needs Node.js 20.12 or later; this is ${process.version}\n`);
  process.exit(2);
}
const only = argv.length === 1 ? argv[0] : undefined;
if (only === '--version' || only === '-V' || only === '--help' || only === '-h') {
  process.stdout.on('error', () => {}); // `--help | head` closes the pipe early: nothing to say about it
  const { VERSION, helpText } = await import('./help.js');
  process.stdout.write(only === '--version' || only === '-V' ? `${VERSION}\n` : helpText());
} else {
  const { run } = await import('./main.js');
  await run(argv);
}
