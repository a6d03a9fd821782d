"""Media tools: locating ffmpeg/ffprobe/Shaka Packager, probing masters, transcoding."""

from reelguard.media.ladder import Rendition, plan_ladder
from reelguard.media.probe import MediaInfo, probe_master
from reelguard.media.tools import MediaTools
from reelguard.media.transcode import TranscodePlan, run_transcode

__all__ = ["MediaInfo", "MediaTools", "Rendition", "TranscodePlan", "plan_ladder", "probe_master", "run_transcode"]
