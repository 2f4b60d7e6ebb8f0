/** Who does something in the connection services: a signed-in user, recorded in the audit log. */
export interface Actor {
  id: number
  name: string
}
