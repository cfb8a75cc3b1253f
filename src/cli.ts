/**
 * The entry point. A bare `--version` or `--help` is answered from the schema alone; everything
 * else loads the tool (main.ts, bundled as one file: see scripts/build.mjs), which parses the
 * whole command line, `--version` and `--help` among other flags included.
 */
const argv = process.argv.slice(2);
const only = argv.length === 1 ? argv[0] : undefined;
if (only === '--version' || only === '-V' || only === '--help' || only === '-h') {
  process.stdout.on('error', () => {}); // `--help | head` closes the pipe early: nothing to say about it
  const { VERSION, helpText } = await import('./help.js');
  process.stdout.write(only === '--version' || only === '-V' ? `${VERSION}\n` : helpText());
} else {
  const { run } = await import('./main.js');
  await run(argv);
}
