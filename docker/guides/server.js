// A stand-in for your Node server: says what NODE_OPTIONS it got, works until SIGTERM, exits 0.
process.on('SIGTERM', () => {
  console.log('app: got SIGTERM');
  process.exit(0);
});
console.log(`app: serving, pid ${process.pid}, NODE_OPTIONS=${process.env.NODE_OPTIONS ?? ''}`);
setInterval(() => {
  // nothing to do: the timer keeps the event loop, and so the server, alive
}, 1000);
