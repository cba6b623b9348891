"""What ``workbench --help`` says: the command's description, and each subcommand's, with examples."""

MAIN_HELP = """\
fast.ai's Titanic spreadsheet lesson (Practical Deep Learning 2022, lesson 3) as software:
the lesson's features, its three models fitted in torch, and Excel workbooks whose live
formulas recompute the same numbers.

start here:
  workbench build              fit every model, write workbooks/ (titanic.xlsx, ...)
  workbench fit nnet           fit one model and print its parameters
  workbench check workbooks/titanic.xlsx
                               does the workbook (after Solver, say) agree with Python?
  workbench predict --out submission.csv
                               a Kaggle submission for test.csv
  workbench compare            every model by every training method, side by side
  workbench solve workbooks/titanic.xlsx --sheet nnet --from-start
                               the lesson's Solver step, done by LibreOffice

Run `workbench COMMAND --help` for a command's options and examples.
exit status: 0 done; 1 `check` found a disagreement; 2 an error (message on stderr)."""


BUILD_HELP = """\
Fit every model on the Titanic training data and write every workbook and picture:

  titanic.xlsx      the lesson's sheets (linear, nnet, mmult, sigmoid) holding the fitted
                    parameters as live formulas, a `descent` sheet where the spreadsheet
                    itself runs gradient descent, and a `summary` of the training runs
  titanic_loss.png  the training loss curves
  submission.csv    the nnet's Kaggle submission for test.csv
  line.xlsx, quadratic.xlsx, ...  the lessons' small regressions, with pictures

then print a table of every training run's loss and accuracy. The net is trained from
many random starts at once by Gauss-Newton steps, the best are finished exactly, then
hop across ReLU kinks to the lowest minimum (method search, the default of
`workbench fit nnet`).
The same seed writes byte-identical files.

A build records what it was made from in DIR/.workbench-build.json (workbench's code, the
data, the seed, library versions, the CPU); when none of it changed and the files are as
written, the next build keeps them and prints the stored report (--force rebuilds)."""


BUILD_EPILOG = """\
examples:
  workbench build                            the bundled train.csv -> workbooks/
  workbench build --out /tmp/books --seed 1  other random starts, elsewhere
  workbench build --data my_train.csv        your own Kaggle train.csv
  workbench build --data penguins.csv --target sex --drop year --out books
                                             any CSV -> books/penguins.xlsx"""


FIT_HELP = """\
Fit one of the lesson's models to the Titanic training data by minimising the mean
squared error (the lesson's loss), then print the loss, the accuracy and the
parameters by input name.

  linear  SUMPRODUCT(inputs, parameters)
  nnet    two ReLUs of SUMPRODUCTs, added (the lesson's "neural net")
  mmult   the same net as one MMULT (its parameters are nnet's, transposed)

methods: search (the net's default: --starts random starts take --gauss-newton steps,
the best are finished exactly on their ReLUs' patterns, then hops across ReLU kinks
until none finds a lower minimum: the lowest minimum known, in seconds), gd (gradient
descent from --starts random starts at once, then --gauss-newton steps of every
start, then L-BFGS polishes the --polish best; linear's default), lbfgs (Solver's
way: a quasi-Newton method), lstsq (linear only: the exact optimum)."""


FIT_EPILOG = """\
examples:
  workbench fit linear --method lstsq
  workbench fit linear --lr 0.1 --epochs 200 --starts 1      the lesson's plain loop
  workbench fit nnet --starts 64 --json nnet.json            then: workbench predict --params nnet.json
  workbench fit linear --sigmoid --method lbfgs"""


CHECK_HELP = """\
Read the parameters on each model sheet of a workbook written by `workbench build`
(for example after you ran Solver in Excel, or typed your own numbers), recompute each
sheet's loss and accuracy in Python on that sheet's passengers (every row, then the
train and the valid rows of its Set column), and print them beside the values stored
in the file. Exit status 1 when they differ by more than 1e-9
(the file was not recalculated after an edit, or something is wrong), 0 when they agree.
With --recalc, LibreOffice also recomputes every formula of the file and its values are
compared too."""


CHECK_EPILOG = """\
examples:
  workbench check workbooks/titanic.xlsx
  workbench check --recalc my_solver_run.xlsx"""


PREDICT_HELP = """\
Write a Kaggle submission: PassengerId,Survived (0 or 1) for every passenger of
test.csv (418 rows for Kaggle's), where Survived is 1 when the model predicts above
0.5. Gaps in test.csv (a missing Age or Fare, say) are filled from the training data
(median Age, median Fare, the commonest port) and Age is scaled by the training data's
maximum. The parameters come from --params: a JSON file of `workbench fit --json`, or
a workbook (the sheet of --model). Without --params the model is fitted first, as
`workbench build` fits it.

With --params a table's workbook (from `workbench build --target`) and --data NEW.csv,
it predicts NEW.csv's rows by the book's own recipe and writes row,<target>: a number,
or for a target of two values one of those values as the table has them."""


PREDICT_EPILOG = """\
examples:
  workbench predict --out submission.csv
  workbench predict --params workbooks/titanic.xlsx --model linear --out linear.csv
  workbench predict --params nnet.json --test my_test.csv --out submission.csv
  workbench predict --params books/penguins.xlsx --data new.csv --out preds.csv"""


COMPARE_HELP = """\
Fit every model by every training method it has and print them side by side: linear by
least squares (the floor), L-BFGS and gradient descent; nnet by L-BFGS from one start,
gradient descent from one start, and many starts polished by L-BFGS; the sigmoid sheet's
linear model by L-BFGS. Each is fitted on the train rows (80%, drawn with seed 42 as the
course notebook does) and scored on the valid rows it never saw: a lower train loss with a
higher valid loss is over-fitting. `vs_linear_floor` is the train loss minus the least-squares
floor of the linear model (negative: below what any linear model reaches); `epochs` counts
L-BFGS iterations for the lbfgs rows."""


COMPARE_EPILOG = """\
examples:
  workbench compare
  workbench compare --starts 512 --seed 3"""


SOLVE_HELP = """\
The lesson's Solver step without Excel: minimise a sheet's train loss by changing its
yellow parameters (the sheet's Solver model), in LibreOffice, then save the workbook in
place. BFGS steps on finite differences minimise from the sheet's values (Excel's GRG
Nonlinear works that way); with --seconds, LibreOffice's nonlinear solver (SwarmSolver,
differential evolution) then searches every parameter in [-BOUND, BOUND] for SECONDS and,
if it lands lower, is polished too; every loss is LibreOffice recalculating the sheet.
Polishing stops after --minutes (default 10) and keeps the best point so far; a second
solve goes on from there (each step recalculates the sheet twice per parameter: on a big
table, minutes).
Needs LibreOffice and its Python bridge (apt-get install -y libreoffice-calc python3-uno).
Afterwards `workbench check FILE` compares the file with Python."""


SOLVE_EPILOG = """\
examples:
  workbench solve workbooks/titanic.xlsx                        the linear sheet, from its values
  workbench solve workbooks/titanic.xlsx --sheet nnet --from-start --seconds 60"""
