"""Code that other code resembles: one platform's file-system emitter, for similar-code retrieval tests."""

INOTIFY_EMITTER = """\
class InotifyEmitter(EventEmitter):
    def queue_events(self, timeout):
        event = self._inotify.read_event()
        if event.is_moved_to:
            src_path = self._decode_path(event.src_path)
            dest_path = self._decode_path(event.dest_path)
            cls = DirMovedEvent if event.is_directory else FileMovedEvent
            self.queue_event(cls(src_path, dest_path))
            self.queue_event(DirModifiedEvent(os.path.dirname(src_path)))
"""

# Another platform's emitter being written: its lines above the cursor look like INOTIFY_EMITTER's.
KQUEUE_EMITTER_SO_FAR = """\
class KqueueEmitter(EventEmitter):
    def queue_events(self, timeout):
        event = self._kqueue.read_event()
        if event.is_moved_to:
            src_path = self._decode_path(event.src_path)
            dest_path = self._decode_path(event.dest_path)
            cls = DirMovedEvent if event.is_directory else FileMovedEvent
"""
