import type { Db } from '../database.js'

export interface FollowUpType {
  id: number
  name: string
  videoDefault: boolean
  position: number
}

/** Follow-up types (Settings → Follow-up types): a name and whether video is on by default. */
export function createFollowUpTypeRepository(db: Db) {
  const all = db.prepare<[], { id: number; name: string; video_default: number; position: number }>('SELECT * FROM follow_up_types ORDER BY position, name')
  const insert = db.prepare('INSERT INTO follow_up_types (name, video_default, position) VALUES (?, ?, (SELECT COALESCE(MAX(position), 0) + 1 FROM follow_up_types))')
  const update = db.prepare('UPDATE follow_up_types SET name = ?, video_default = ? WHERE id = ?')
  const remove = db.prepare('DELETE FROM follow_up_types WHERE id = ?')
  return {
    list(): FollowUpType[] {
      return all.all().map((r) => ({ id: r.id, name: r.name, videoDefault: r.video_default === 1, position: r.position }))
    },
    create(name: string, videoDefault: boolean): void {
      insert.run(name, videoDefault ? 1 : 0)
    },
    update(id: number, name: string, videoDefault: boolean): boolean {
      return update.run(name, videoDefault ? 1 : 0, id).changes === 1
    },
    delete(id: number): boolean {
      return remove.run(id).changes === 1
    },
  }
}

export type FollowUpTypeRepository = ReturnType<typeof createFollowUpTypeRepository>
