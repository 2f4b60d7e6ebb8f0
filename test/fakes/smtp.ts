/**
 * A real SMTP server on loopback (npm smtp-server) that keeps what it receives, with switches for the
 * failures the outbox must survive: refused login, a rejected recipient, a temporary failure, dropping the
 * connection in the middle of a message.
 */
import { SMTPServer, type SMTPServerOptions } from 'smtp-server'
import { simpleParser, type ParsedMail } from 'mailparser'

export interface ReceivedMail {
  from: string
  to: string[]
  raw: string
  parsed: ParsedMail
}

export interface SmtpKnobs {
  /** Reject RCPT TO for these addresses (550). */
  rejectRecipients: string[]
  /** Answer 451 (try again later) to DATA. */
  tempFailData: boolean
  /** Close the connection while the message is being sent (before the server accepts it). */
  dropMidMessage: number
}

export interface SmtpFake {
  port: number
  mails: ReceivedMail[]
  knobs: SmtpKnobs
  /** Resolves when `count` mails have arrived. */
  waitFor(count: number, timeoutMs?: number): Promise<ReceivedMail[]>
  close(): Promise<void>
}

export async function startSmtpFake(options: { auth?: { user: string; pass: string }; secure?: boolean; key?: string; cert?: string } = {}): Promise<SmtpFake> {
  const mails: ReceivedMail[] = []
  const knobs: SmtpKnobs = { rejectRecipients: [], tempFailData: false, dropMidMessage: 0 }
  const waiters: { count: number; resolve: () => void }[] = []
  const config: SMTPServerOptions = {
    secure: options.secure ?? false,
    ...(options.key && { key: options.key, cert: options.cert }),
    disabledCommands: options.auth ? (options.secure ? [] : ['STARTTLS']) : ['AUTH', 'STARTTLS'],
    authOptional: !options.auth,
    allowInsecureAuth: true,
    logger: false,
    onAuth(auth, _session, callback) {
      if (options.auth && auth.username === options.auth.user && auth.password === options.auth.pass) return callback(null, { user: auth.username })
      const error = new Error('Invalid username or password') as Error & { responseCode: number }
      error.responseCode = 535
      callback(error)
    },
    onRcptTo(address, _session, callback) {
      if (knobs.rejectRecipients.includes(address.address.toLowerCase())) {
        const error = new Error(`Mailbox unavailable: ${address.address}`) as Error & { responseCode: number }
        error.responseCode = 550
        return callback(error)
      }
      callback()
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = []
      let dropped = false
      stream.on('data', (chunk: Buffer) => {
        chunks.push(chunk)
        if (knobs.dropMidMessage > 0 && !dropped) {
          dropped = true
          knobs.dropMidMessage--
          // Cut the connection before the final "250 OK": the client cannot know it arrived, and it did not.
          const connections = (server as unknown as { connections: Set<{ session: unknown; _socket: { destroy(): void } }> }).connections
          for (const connection of connections) if (connection.session === session) connection._socket.destroy()
        }
      })
      stream.on('end', async () => {
        if (dropped) return
        if (knobs.tempFailData) {
          const error = new Error('Try again later') as Error & { responseCode: number }
          error.responseCode = 451
          return callback(error)
        }
        const raw = Buffer.concat(chunks).toString('utf8')
        const parsed = await simpleParser(raw)
        mails.push({ from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '', to: session.envelope.rcptTo.map((r) => r.address), raw, parsed })
        callback()
        for (const w of [...waiters]) if (mails.length >= w.count) w.resolve()
      })
    },
  }
  const server: SMTPServer = new SMTPServer(config)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.server.address() as { port: number }).port
  return {
    port,
    mails,
    knobs,
    waitFor(count, timeoutMs = 10_000) {
      if (mails.length >= count) return Promise.resolve(mails)
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`expected ${count} mails, got ${mails.length}`)), timeoutMs)
        waiters.push({ count, resolve: () => (clearTimeout(timer), resolve(mails)) })
      })
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}
