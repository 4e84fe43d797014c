import { Fact } from '../components/common.tsx';
import { formatCount, formatPercent } from '../format.ts';
import { graphql, type ResultOf } from '../graphql.ts';

/** A validated job's scores: TrainingMetrics' validation fields (null until it has validated). */
export const ValidationFields = graphql(`
  fragment ValidationFields on TrainingMetrics {
    accuracy
    macroF1
    baselineAccuracy
    baselineF1
    perClass {
      label
      precision
      recall
      f1Score
      support
    }
    confusionMatrix
  }
`);

export type ValidationReport = ResultOf<typeof ValidationFields>;

/** A completed job's validation: scores against the majority-class baseline, per class, confusion. */
export function ValidationResults({ report }: { report: ValidationReport }) {
  const labels = report.perClass.map((c) => c.label);
  return (
    <>
      <dl className="facts">
        <Fact term="Accuracy">{formatPercent(report.accuracy)}</Fact>
        <Fact term="Macro-F1">{formatPercent(report.macroF1)}</Fact>
        <Fact term="Baseline accuracy">{formatPercent(report.baselineAccuracy)}</Fact>
        <Fact term="Baseline macro-F1">{formatPercent(report.baselineF1)}</Fact>
      </dl>
      {report.confusionMatrix && (
        <div className="table-wrap">
          <table className="confusion">
            <caption>
              Confusion matrix: rows are the true labels, columns the predicted ones
            </caption>
            <thead>
              <tr>
                <td />
                {labels.map((label) => (
                  <th key={label} scope="col">
                    {label}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {report.confusionMatrix.map((row, i) => (
                <tr key={labels[i] ?? i}>
                  <th scope="row">{labels[i]}</th>
                  {row.map((count, j) => (
                    <td key={labels[j] ?? j} className={i === j ? 'num diagonal' : 'num'}>
                      {formatCount(count)}
                    </td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {report.perClass.length > 0 && (
        <div className="table-wrap">
          <table>
            <caption>Per label</caption>
            <thead>
              <tr>
                <th scope="col">Label</th>
                <th scope="col" className="num">
                  Precision
                </th>
                <th scope="col" className="num">
                  Recall
                </th>
                <th scope="col" className="num">
                  F1
                </th>
                <th scope="col" className="num">
                  Support
                </th>
              </tr>
            </thead>
            <tbody>
              {report.perClass.map((c) => (
                <tr key={c.label}>
                  <th scope="row">{c.label}</th>
                  <td className="num">{formatPercent(c.precision)}</td>
                  <td className="num">{formatPercent(c.recall)}</td>
                  <td className="num">{formatPercent(c.f1Score)}</td>
                  <td className="num">{formatCount(c.support)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}
