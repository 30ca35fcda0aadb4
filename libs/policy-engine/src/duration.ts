// ISO 8601 durations (PT4H, P90D, P1DT12H) are what bundle authors and requesters write; the engine
// compares them as whole seconds. Years and months are refused: their length depends on the calendar,
// and a decision must not depend on which month it is evaluated in.
const PATTERN = /^P(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$/;

export const parseIsoDuration = (text: string): number | null => {
  const m = PATTERN.exec(text);
  if (!m || text === 'P' || text.endsWith('T')) return null;
  const [, w, d, h, min, s] = m;
  return Number(w ?? 0) * 604_800 + Number(d ?? 0) * 86_400 + Number(h ?? 0) * 3_600 + Number(min ?? 0) * 60 + Number(s ?? 0);
};

export const isIsoDuration = (text: string): boolean => parseIsoDuration(text) !== null;

export const formatIsoDuration = (seconds: number): string => {
  if (seconds <= 0) return 'PT0S';
  const d = Math.floor(seconds / 86_400);
  const h = Math.floor((seconds % 86_400) / 3_600);
  const m = Math.floor((seconds % 3_600) / 60);
  const s = seconds % 60;
  const time = `${h ? `${h}H` : ''}${m ? `${m}M` : ''}${s ? `${s}S` : ''}`;
  return `P${d ? `${d}D` : ''}${time ? `T${time}` : ''}`;
};
