import { ProgressLine } from './progress';

describe('ProgressLine', () => {
  let written: string[];
  beforeEach(() => {
    written = [];
    jest.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
      written.push(String(chunk).replaceAll('\r\x1b[K', '').replaceAll('\n', ''));
      return true;
    });
  });
  afterEach(() => jest.restoreAllMocks());

  const mb = (n: number) => n.toFixed(1);

  it('shows percentage and ETA against a known total', () => {
    const p = new ProgressLine('download', undefined, ' MB', mb);
    p.setTotal(100);
    p.update(25, true);
    expect(written.at(-1)).toMatch(/^download: 25\.0\/100\.0 MB {2}25% {2}.* MB\/s {2}ETA \d+s$/);
  });

  it('shows the amount alone when the total is unknown or smaller than what is done', () => {
    const p = new ProgressLine('download', undefined, ' MB', mb);
    p.update(3, true);
    expect(written.at(-1)).toMatch(/^download: 3\.0 MB {2}[\d.]+ MB\/s$/);
    p.setTotal(0.0012); // the .pom's size, announced before the zip's
    p.update(106.9, true);
    expect(written.at(-1)).toMatch(/^download: 106\.9 MB {2}[\d.]+ MB\/s$/);
  });
});
