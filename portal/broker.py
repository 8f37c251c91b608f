"""The demo's broker without a server: kombu's filesystem transport, made safe for a producer
and a consumer working at the same moment.

kombu writes a message by creating its file in the queue folder and then writing into it; a
worker polling every 20 ms can move and read that file in between, reads an empty payload and
dies with `JSONDecodeError` (seen in `make demo`: the whole demo stopped). Here a message is
written completely to a staging folder on the same filesystem and then renamed into the queue
folder; a rename is atomic, so a consumer sees a whole message or none.

Settings select it (`CELERY_BROKER_TRANSPORT`) whenever the broker URL is `filesystem://`.
"""

import os
import tempfile
import uuid
from time import monotonic

from kombu.exceptions import ChannelError
from kombu.transport import filesystem
from kombu.utils.encoding import str_to_bytes
from kombu.utils.json import dumps


class Channel(filesystem.Channel):
    @property
    def staging_folder(self) -> str:
        return self.transport_options.get("staging_folder") or tempfile.gettempdir()

    def _put(self, queue, payload, **kwargs):
        # The name kombu's consumer sorts and filters by: <ms>_<uuid>.<queue>.msg
        name = f"{int(round(monotonic() * 1000))}_{uuid.uuid4()}.{queue}.msg"
        staged = os.path.join(self.staging_folder, name)
        try:
            with open(staged, "wb") as handle:
                handle.write(str_to_bytes(dumps(payload)))
            os.replace(staged, os.path.join(self.data_folder_out, name))
        except OSError as exc:
            raise ChannelError(f"Cannot add message {name!r} to {self.data_folder_out}") from exc


class Transport(filesystem.Transport):
    Channel = Channel
