# Shared by check_quant.sh and tools/bench/quant_snr.sh: the real models, how they are parsed,
# and their published pre-processing as model scripts (tests/real_models/scripts/).
MODELS=(blazeface_128 ppocr_v4_det mlsd_tiny_320)
declare -A PARSE_ARGS=(
  [blazeface_128]=""
  [ppocr_v4_det]="--tensor-shapes x=[1,3,640,640]"
  # M-LSD's last step keeps only local maxima (heat == maxpool(heat)); it quantizes (ew_equal is
  # exact in integers), but at 8 bits neighbours that round alike are both maxima: cut it off.
  [mlsd_tiny_320]="--end-node-names Transpose__300 Transpose__305"
)
