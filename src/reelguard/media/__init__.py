"""Media tools: locating ffmpeg/ffprobe/Shaka Packager, probing masters, transcoding."""

from typing import TYPE_CHECKING

from reelguard._lazy import lazy_exports

if TYPE_CHECKING:
    from reelguard.media.ladder import Rendition, plan_ladder
    from reelguard.media.probe import MediaInfo, probe_master
    from reelguard.media.tools import MediaTools
    from reelguard.media.transcode import TranscodePlan, run_transcode

__all__ = ["MediaInfo", "MediaTools", "Rendition", "TranscodePlan", "plan_ladder", "probe_master", "run_transcode"]
__getattr__ = lazy_exports(__name__, {
    "Rendition": "reelguard.media.ladder", "plan_ladder": "reelguard.media.ladder",
    "MediaInfo": "reelguard.media.probe", "probe_master": "reelguard.media.probe",
    "MediaTools": "reelguard.media.tools",
    "TranscodePlan": "reelguard.media.transcode", "run_transcode": "reelguard.media.transcode",
})
