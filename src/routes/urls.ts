/** The few URLs one area's routes send people to in another's (a route module imports no other route module). */
export const PREFERENCES_VIDEO = '/preferences/video-meetings'
export const CONFIGURE = '/settings/video-meetings/configure'
