/**
 * The limit: a bare Fastify route answering every GET with the same bytes as the signed-in Video meetings
 * page, from memory. No session, no database, no template: the upper bound for our stack on this machine.
 * Usage: node bench/limit-server.ts <file with the page> <port> [content-encoding]  (run by bench/run.ts via tsx)
 */
import fs from 'node:fs'
import Fastify from 'fastify'

const [file, port, encoding] = process.argv.slice(2)
if (!file || !port) throw new Error('usage: limit-server <file> <port>')
const body = fs.readFileSync(file)

const app = Fastify({ logger: false })
app.get('/', (_request, reply) => {
  reply.header('content-type', 'text/html; charset=utf-8')
  if (encoding) reply.header('content-encoding', encoding)
  reply.send(body)
})
await app.listen({ port: Number(port), host: '127.0.0.1' })
process.send?.('ready')
process.on('SIGTERM', () => {
  void app.close().then(() => process.exit(0))
})
