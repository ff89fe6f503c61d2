# Installs the already-built gradflow into a scratch prefix, then configures, builds and runs
# tests/consumer against it, as a downstream user would. With SUBDIRECTORY the consumer builds
# gradflow's source as a part of itself instead (its CPU backend: the installed test covers CUDA).
file(REMOVE_RECURSE ${WORK_DIR})
if(SUBDIRECTORY)
  set(source_of_gradflow -DGRADFLOW_SUBDIRECTORY=${SOURCE_DIR} -DGRADFLOW_ENABLE_CUDA=OFF)
  set(WITH_CUDA OFF)
else()
  execute_process(COMMAND ${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${WORK_DIR}/prefix
                  RESULT_VARIABLE failed)
  if(failed)
    message(FATAL_ERROR "installing gradflow failed")
  endif()
  set(source_of_gradflow -DCMAKE_PREFIX_PATH=${WORK_DIR}/prefix)
endif()
execute_process(COMMAND ${CMAKE_COMMAND} -S ${SOURCE_DIR}/tests/consumer -B ${WORK_DIR}/build
                        -G ${GENERATOR} ${source_of_gradflow}
                        -DCONSUMER_WITH_CUDA=${WITH_CUDA} -DCMAKE_CUDA_ARCHITECTURES=90
                RESULT_VARIABLE failed)
if(failed)
  message(FATAL_ERROR "configuring the consumer project failed")
endif()
execute_process(COMMAND ${CMAKE_COMMAND} --build ${WORK_DIR}/build RESULT_VARIABLE failed)
if(failed)
  message(FATAL_ERROR "building the consumer project failed")
endif()
set(programs consumer)
if(WITH_CUDA)
  list(APPEND programs consumer_cuda)
endif()
foreach(program ${programs})
  execute_process(COMMAND ${WORK_DIR}/build/${program} RESULT_VARIABLE failed)
  if(failed)
    message(FATAL_ERROR "the consumer program ${program} failed: ${failed}")
  endif()
endforeach()
